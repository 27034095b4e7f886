#!/bin/sh
# Step 2: produce every line of data/orders.jsonl to `orders`, keyed by its
# `customer` field, in file order. Start from an empty topic so the script
# can run again.
# Console route: lines `key<TAB>value` carry a key:
#   TODO: delete and re-create orders (3 partitions)
#   TODO: turn each line into "customer<TAB>line" and pipe into `datalab kafka produce orders`
# Python route (pip install -r requirements.txt):
#   python3 python/02_produce.py
echo "TODO: 02_produce.sh" >&2
