#!/bin/sh
# Step 5: while the query is stopped, more orders arrive; the query must
# start again from where it stopped and count only what is new.
set -e
sh produce_orders.sh 30
# TODO: run stream.py so that it resumes from step 4's checkpoint.
rm -rf checkpoints/order-counts-2
datalab spark submit --kafka --event-log spark-events/stream stream.py checkpoints/order-counts-2
