#!/bin/sh
# Step 7: `clicks` keeps records one hour (retention.ms);
# `customers` is compacted (cleanup.policy) and holds the lab's
# customers.jsonl ("$DATALAB_LAB_DATA/customers.jsonl") keyed by `id`.
# TODO
echo "TODO: 07_retention.sh" >&2
