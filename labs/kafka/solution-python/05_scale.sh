#!/bin/sh
# Step 5, Python route: two workers of group `workers` in the background.
mkdir -p out
for w in 1 2; do
  python3 python/05_worker.py > out/worker-$w.log 2>&1 &
done
