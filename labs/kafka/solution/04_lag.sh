#!/bin/sh
# Step 4: group analytics reads the first 40 records only, and commits.
set -e
datalab kafka groups delete analytics --if-exists
datalab kafka consume orders --group analytics --from-beginning --max 40 > /dev/null
datalab kafka groups describe analytics
