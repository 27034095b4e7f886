#!/bin/sh
# Step 3, Python route: consume in group billing, write totals.json, commit.
set -e
python3 python/03_billing.py
cat totals.json
