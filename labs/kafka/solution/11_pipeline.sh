#!/bin/sh
# Step 11: reset before the check runs the scorer: an empty `alerts`, no
# committed offsets for group `fraud`. (The scorer itself, 11_score.sh, is
# Python: see ../solution-python/python/11_score.py.)
set -e
datalab kafka topics delete alerts --if-exists
datalab kafka topics create alerts --partitions 1 --replication-factor 1
datalab kafka groups delete fraud --if-exists
