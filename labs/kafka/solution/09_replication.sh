#!/bin/sh
# Step 9: three copies of each partition; a write needs two of them in sync.
set -e
datalab kafka topics delete payments --if-exists
datalab kafka topics create payments --partitions 3 --replication-factor 3 \
  --config min.insync.replicas=2
datalab kafka topics describe payments
