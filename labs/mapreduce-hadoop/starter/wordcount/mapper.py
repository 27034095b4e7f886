#!/usr/bin/env python3
"""Word count, map side.

Input (stdin): lines of text, one record per line.
Output (stdout): one `word<TAB>1` line for every word.

A word is a run of letters a-z after lower-casing the line, so
"MapReduce's map" gives `mapreduce`, `s` and `map`. Hint: re.findall(r"[a-z]+", ...).
"""
import re
import sys

for line in sys.stdin:
    # TODO: print one "word\t1" line for every word of the line.
    pass
