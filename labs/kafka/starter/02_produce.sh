#!/bin/sh
# Step 2: produce every line of the lab's orders.jsonl to `orders`, keyed by
# its `customer` field, in file order. Start from an empty topic so the
# script can run again. Read the lab's data from "$DATALAB_LAB_DATA" (set
# by datalab wherever your workspace is), not from data/.
# Console route: lines `key<TAB>value` carry a key:
#   TODO: delete and re-create orders (3 partitions)
#   TODO: turn each line into "customer<TAB>line" and pipe into `datalab kafka produce orders`
# Python route (pip install -r requirements.txt):
#   python3 python/02_produce.py
echo "TODO: 02_produce.sh" >&2
