#!/bin/sh
# Step 1: a topic with 3 partitions (one copy each: the classroom broker is alone).
set -e
datalab kafka topics create orders --partitions 3 --replication-factor 1 --if-not-exists
datalab kafka topics describe orders
