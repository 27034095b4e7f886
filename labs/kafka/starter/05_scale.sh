#!/bin/sh
# Step 5: start TWO consumers of `orders` in group `workers`, in the
# background, staying in the group ~25 s, so the check can watch the group
# split the 3 partitions between them.
# TODO: datalab kafka consume orders --group workers --stay 25 > out/w1.log 2>&1 &
# Python: python3 python/05_worker.py > out/w1.log 2>&1 &
mkdir -p out
echo "TODO: 05_scale.sh" >&2
