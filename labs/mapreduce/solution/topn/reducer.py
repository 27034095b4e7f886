#!/usr/bin/env python3
"""Top-N per key, reduce side: add up the revenue of each product of a
region, then print the 3 best as `region<TAB>product<TAB>revenue`, highest
first (ties: product name A to Z)."""
import sys

N = 3
current, revenue = None, {}


def emit():
    best = sorted(revenue.items(), key=lambda kv: (-kv[1], kv[0]))[:N]
    for product, total in best:
        print(f"{current}\t{product}\t{total}")


for line in sys.stdin:
    region, product, amount = line.rstrip("\n").split("\t")
    if region != current:
        if current is not None:
            emit()
        current, revenue = region, {}
    revenue[product] = revenue.get(product, 0) + int(amount)
if current is not None:
    emit()
