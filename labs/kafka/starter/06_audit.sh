#!/bin/sh
# Step 6: the topic `audit` must return the lab's audit.txt
# ("$DATALAB_LAB_DATA/audit.txt") in the order written.
# TODO: create it with the right number of partitions, then produce the file.
echo "TODO: 06_audit.sh" >&2
