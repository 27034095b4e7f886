#!/bin/sh
# Step 7: `clicks` keeps records one hour (retention.ms);
# `customers` is compacted (cleanup.policy) and holds data/customers.jsonl
# keyed by `id`.
# TODO
echo "TODO: 07_retention.sh" >&2
