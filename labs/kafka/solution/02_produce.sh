#!/bin/sh
# Step 2: produce data/orders.jsonl keyed by customer.
set -e
# Start from an empty topic so the script can run again without duplicates.
datalab kafka topics delete orders --if-exists
datalab kafka topics create orders --partitions 3 --replication-factor 1
# `key<TAB>value` lines: the customer field becomes the record key.
awk '{ match($0, /"customer": *"[^"]*"/); c = substr($0, RSTART, RLENGTH)
       sub(/^"customer": *"/, "", c); sub(/"$/, "", c); print c "\t" $0 }' data/orders.jsonl \
  | datalab kafka produce orders
