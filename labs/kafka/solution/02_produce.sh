#!/bin/sh
# Step 2: produce the lab's orders.jsonl keyed by customer. The lab's data
# is read from $DATALAB_LAB_DATA (the trusted copy datalab provides wherever
# the workspace is), not from a data/ folder in the workspace.
set -e
# Start from an empty topic so the script can run again without duplicates.
datalab kafka topics delete orders --if-exists
datalab kafka topics create orders --partitions 3 --replication-factor 1
# `key<TAB>value` lines: the customer field becomes the record key.
awk '{ match($0, /"customer": *"[^"]*"/); c = substr($0, RSTART, RLENGTH)
       sub(/^"customer": *"/, "", c); sub(/"$/, "", c); print c "\t" $0 }' "$DATALAB_LAB_DATA/orders.jsonl" \
  | datalab kafka produce orders
