#!/usr/bin/env python3
"""Top-N per key, reduce side.

Input (stdin): `region<TAB>product<TAB>revenue` lines sorted by region.
Output (stdout): for each region, its 3 products with the highest total
revenue, best first (ties: product name A to Z), one per line:
`region<TAB>product<TAB>total`.
"""
import sys

N = 3
for line in sys.stdin:
    region, product, amount = line.rstrip("\n").split("\t")
    # TODO: add up revenue per product of the current region; when the
    # region changes, print its top N.
