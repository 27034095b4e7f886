#!/usr/bin/env python3
"""Word count, combine side: the same sum as the reducer, run on each map
task's sorted output so fewer records cross the shuffle. Input and output
are both `word<TAB>count`."""
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
