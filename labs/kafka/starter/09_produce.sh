#!/bin/sh
# Step 9: write a few records to `payments` with acks=all. The check runs
# this script again while one broker is stopped: it must still succeed.
# TODO
echo "TODO: 09_produce.sh" >&2
exit 1
