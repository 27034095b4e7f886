#!/bin/sh
# Step 9 (3 brokers): create `payments`: 3 partitions, replication factor 3,
# min.insync.replicas=2.
# TODO
echo "TODO: 09_replication.sh" >&2
