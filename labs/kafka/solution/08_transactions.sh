#!/bin/sh
# Step 8: 10 payments in a committed transaction, 5 in an aborted one.
set -e
datalab kafka topics delete payments-tx --if-exists
datalab kafka topics create payments-tx --partitions 1 --replication-factor 1
seq 1 10 | sed 's/^/payment-ok-/' | datalab kafka produce payments-tx --transactional
seq 1 5 | sed 's/^/payment-bad-/' | datalab kafka produce payments-tx --transactional --abort
