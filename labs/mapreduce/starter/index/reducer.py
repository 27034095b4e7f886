#!/usr/bin/env python3
"""Inverted index, reduce side.

Input (stdin): `word<TAB>document` lines sorted by word.
Output (stdout): one `word<TAB>doc01.txt,doc05.txt` line per word: its
documents sorted, each once, joined with commas.
"""
import sys

for line in sys.stdin:
    word, doc = line.rstrip("\n").split("\t", 1)
    # TODO: group the documents of each word and print them.
