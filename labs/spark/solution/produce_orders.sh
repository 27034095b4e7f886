#!/bin/sh
# Produce the first N orders of the Kafka lab's orders.jsonl to `orders`,
# keyed by customer (as the Kafka lab's step 2 does).
set -e
head -n "${1:-120}" "$DATALAB_LAB_DATA/orders.jsonl" \
  | awk '{ match($0, /"customer": *"[^"]*"/); c = substr($0, RSTART, RLENGTH)
           sub(/^"customer": *"/, "", c); sub(/"$/, "", c); print c "\t" $0 }' \
  | datalab kafka produce orders
