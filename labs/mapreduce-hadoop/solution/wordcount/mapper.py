#!/usr/bin/env python3
"""Word count, map side: one `word<TAB>1` line for every word of the input."""
import re
import sys

WORD = re.compile(r"[a-z]+")

for line in sys.stdin:
    for word in WORD.findall(line.lower()):
        print(f"{word}\t1")
