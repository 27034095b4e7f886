#!/bin/sh
# Step 7: clicks kept for one hour; customers compacted to the latest profile.
set -e
datalab kafka topics create clicks --partitions 3 --replication-factor 1 \
  --config retention.ms=3600000 --if-not-exists
datalab kafka topics alter clicks --config retention.ms=3600000
datalab kafka topics delete customers --if-exists
datalab kafka topics create customers --partitions 1 --replication-factor 1 \
  --config cleanup.policy=compact
awk '{ match($0, /"id": *"[^"]*"/); k = substr($0, RSTART, RLENGTH)
       sub(/^"id": *"/, "", k); sub(/"$/, "", k); print k "\t" $0 }' "$DATALAB_LAB_DATA/customers.jsonl" \
  | datalab kafka produce customers
