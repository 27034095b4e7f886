#!/usr/bin/env python3
"""Reduce-side join, reduce side.

Input (stdin): the tagged records of the mapper, sorted by customer_id. Within
one customer_id, customer and orders arrive in no particular order.
Output (stdout): one line per order that has a known customer:
`order_id<TAB>name<TAB>country<TAB>amount`. Orders of unknown customers are
dropped (an inner join).
"""
import sys

for line in sys.stdin:
    key, tag, a, b = line.rstrip("\n").split("\t")
    # TODO: keep the customer and the orders of the current key; when the key
    # changes, print each order with its customer's name and country.
