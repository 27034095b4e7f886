#!/usr/bin/env python3
"""Top-N per key, map side.

Input (stdin): lines of sales.csv: date,region,product,quantity,unit_price
(with a header line).
Output (stdout): `region<TAB>product<TAB>revenue`, revenue = quantity * unit_price.
"""
import sys

for line in sys.stdin:
    fields = line.rstrip("\n").split(",")
    # TODO: skip the header; print region, product and revenue.
