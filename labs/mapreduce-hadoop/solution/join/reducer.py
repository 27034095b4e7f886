#!/usr/bin/env python3
"""Reduce-side join, reduce side. For one customer_id the records arrive in
no particular order, so the orders are kept until the group ends; then every
order is printed with its customer: `order_id<TAB>name<TAB>country<TAB>amount`.
Orders whose customer is unknown are dropped (an inner join)."""
import sys

current, customer, orders = None, None, []


def emit():
    if customer is None:
        return
    name, country = customer
    for order_id, amount in orders:
        print(f"{order_id}\t{name}\t{country}\t{amount}")


for line in sys.stdin:
    key, tag, a, b = line.rstrip("\n").split("\t")
    if key != current:
        emit()
        current, customer, orders = key, None, []
    if tag == "C":
        customer = (a, b)
    else:
        orders.append((a, b))
emit()
