#!/bin/sh
# Step 4: the windowed count, from a fresh output topic and checkpoint.
set -e
# The Kafka lab's `orders` (its step 2), produced here if it is not there.
if ! datalab kafka topics describe orders >/dev/null 2>&1; then
  datalab kafka topics create orders --partitions 3 --replication-factor 1
  sh produce_orders.sh 120
fi
datalab kafka topics delete order-counts --if-exists
datalab kafka topics create order-counts --partitions 1 --replication-factor 1
rm -rf checkpoints/order-counts
datalab spark submit --kafka --event-log spark-events/stream stream.py checkpoints/order-counts
