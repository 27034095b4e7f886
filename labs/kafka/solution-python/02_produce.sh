#!/bin/sh
# Step 2, Python route: python/02_produce.py (confluent-kafka) re-creates
# `orders` and produces data/orders.jsonl keyed by customer.
set -e
python3 python/02_produce.py
