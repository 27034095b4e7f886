#!/bin/sh
# Step 5: while the query is stopped, more orders arrive; the query starts
# again from its checkpoint and counts only what is new.
set -e
sh produce_orders.sh 30
datalab spark submit --kafka --event-log spark-events/stream stream.py checkpoints/order-counts
