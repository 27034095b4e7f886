#!/usr/bin/env python3
"""Top-N per key, map side: `region<TAB>product<TAB>revenue` for each sale,
where revenue = quantity * unit_price."""
import sys

for line in sys.stdin:
    fields = line.rstrip("\n").split(",")
    if fields[0] == "date":  # the header
        continue
    _date, region, product, quantity, unit_price = fields
    print(f"{region}\t{product}\t{int(quantity) * int(unit_price)}")
