#!/usr/bin/env python3
"""Word count, reduce side.

Input (stdin): `word<TAB>count` lines, SORTED by word, so all the lines of
one word are next to each other.
Output (stdout): one `word<TAB>total` line per word.
"""
import sys

current, total = None, 0
for line in sys.stdin:
    word, count = line.rstrip("\n").split("\t", 1)
    # TODO: when `word` differs from `current`, print the finished word's
    # total and start a new one; otherwise add int(count) to the total.

# TODO: do not forget the last word.
