#!/bin/sh
# Step 2, Python route: python/02_produce.py (confluent-kafka) re-creates
# `orders` and produces the lab's orders.jsonl ($DATALAB_LAB_DATA) keyed by
# customer.
set -e
python3 python/02_produce.py
