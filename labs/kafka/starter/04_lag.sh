#!/bin/sh
# Step 4: group `analytics` consumes exactly the first 40 records of `orders`
# and commits. Then look at its lag:
#   datalab kafka groups describe analytics
echo "TODO: 04_lag.sh" >&2
