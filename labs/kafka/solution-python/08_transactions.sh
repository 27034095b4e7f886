#!/bin/sh
# Step 8, Python route: a committed and an aborted transaction.
set -e
python3 python/08_transactions.py
