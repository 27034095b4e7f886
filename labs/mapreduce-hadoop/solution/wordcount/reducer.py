#!/usr/bin/env python3
"""Word count, reduce side: lines arrive sorted by key, so all the counts of
one word are next to each other. Sum them and print `word<TAB>total` when the
word changes."""
import sys

current, total = None, 0
for line in sys.stdin:
    word, count = line.rstrip("\n").split("\t", 1)
    if word != current:
        if current is not None:
            print(f"{current}\t{total}")
        current, total = word, 0
    total += int(count)
if current is not None:
    print(f"{current}\t{total}")
