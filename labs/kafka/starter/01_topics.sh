#!/bin/sh
# Step 1: create the topic `orders` with 3 partitions (replication factor 1),
# then describe it.
# TODO: datalab kafka topics create …
# TODO: datalab kafka topics describe orders
echo "TODO: 01_topics.sh" >&2
