#!/usr/bin/env python3
"""Inverted index, map side.

Input (stdin): lines of one document. The engine puts the path of the file
being read in the environment variable `mapreduce_map_input_file`.
Output (stdout): `word<TAB>document` lines, where document is the file's
name without its folder (e.g. doc03.txt). Words as in word count.
"""
import os
import re
import sys

doc = os.path.basename(os.environ.get("mapreduce_map_input_file", "unknown"))

for line in sys.stdin:
    # TODO: print "word\tdoc" for the words of the line.
    pass
