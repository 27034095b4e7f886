#!/bin/sh
# Step 8: 10 records to `payments-tx` in a committed transaction, 5 in an
# aborted one.
# Console: datalab kafka produce payments-tx --transactional [--abort]
# Python:  python3 python/08_transactions.py
echo "TODO: 08_transactions.sh" >&2
