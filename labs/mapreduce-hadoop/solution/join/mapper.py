#!/usr/bin/env python3
"""Reduce-side join, map side. Both files are keyed by customer_id so a
customer and their orders meet in the same reduce call. Each value is tagged
with where it came from: `C` for a customer, `O` for an order."""
import os
import sys

source = os.path.basename(os.environ.get("mapreduce_map_input_file", ""))

for line in sys.stdin:
    fields = line.rstrip("\n").split(",")
    if source.startswith("customers"):
        if fields[0] == "customer_id":  # the header
            continue
        customer_id, name, country = fields
        print(f"{customer_id}\tC\t{name}\t{country}")
    elif source.startswith("orders"):
        if fields[0] == "order_id":
            continue
        order_id, customer_id, amount = fields
        print(f"{customer_id}\tO\t{order_id}\t{amount}")
