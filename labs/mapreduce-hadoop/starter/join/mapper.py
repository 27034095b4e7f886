#!/usr/bin/env python3
"""Reduce-side join, map side.

Input (stdin): lines of shop/customers.csv (customer_id,name,country) or of
shop/orders.csv (order_id,customer_id,amount); each file starts with a header
line. `mapreduce_map_input_file` tells which file you are reading.
Output (stdout): key = customer_id, value = the record TAGGED with its
source, e.g. `C0007<TAB>C<TAB>Ada Turing<TAB>Italy` for a customer and
`C0007<TAB>O<TAB>O00042<TAB>17.50` for an order.
"""
import os
import sys

source = os.path.basename(os.environ.get("mapreduce_map_input_file", ""))

for line in sys.stdin:
    fields = line.rstrip("\n").split(",")
    # TODO: skip the header, then print the tagged record keyed by customer_id.
