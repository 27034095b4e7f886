#!/bin/sh
# Step 9: the producer the check runs while a broker is down.
set -e
seq 1 5 | sed 's/^/payment-/' | datalab kafka produce payments --acks all
