#!/bin/sh
# Step 5: two consumers in one group share the 3 partitions. They run in the
# background (output to files) and stay 25 s, so the check sees them.
# `--detach` returns once a consumer has partitions (`&` works too: the
# check then waits for them to join).
mkdir -p out
for w in 1 2; do
  datalab kafka consume orders --group workers --stay 25 --no-commit --detach > out/worker-$w.log 2>&1
done
