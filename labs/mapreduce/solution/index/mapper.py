#!/usr/bin/env python3
"""Inverted index, map side: `word<TAB>document` for every word. The engine
tells a mapper which file its split comes from in the environment variable
`mapreduce_map_input_file` (the name Hadoop Streaming uses)."""
import os
import re
import sys

WORD = re.compile(r"[a-z]+")
doc = os.path.basename(os.environ.get("mapreduce_map_input_file", "unknown"))

for line in sys.stdin:
    # A set: a word seen twice on a line needs one record, not two.
    for word in set(WORD.findall(line.lower())):
        print(f"{word}\t{doc}")
