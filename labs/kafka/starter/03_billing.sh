#!/bin/sh
# Step 3: consume `orders` in group `billing` from the beginning, commit, and
# write the total amount per customer to totals.json ({"c01": 123.45, …}).
# Console: datalab kafka consume orders --group billing --from-beginning --tsv
# Python:  python3 python/03_billing.py
echo "TODO: 03_billing.sh" >&2
