#!/bin/sh
# Step 6: one partition keeps every event in the order written.
set -e
datalab kafka topics delete audit --if-exists
datalab kafka topics create audit --partitions 1 --replication-factor 1
datalab kafka produce audit --key account-42 --file "$DATALAB_LAB_DATA/audit.txt"
