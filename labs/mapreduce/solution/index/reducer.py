#!/usr/bin/env python3
"""Inverted index, reduce side: collect the documents of each word, drop
duplicates, and print `word<TAB>doc01.txt,doc04.txt` (sorted)."""
import sys

current, docs = None, set()


def emit():
    if current is not None:
        print(f"{current}\t{','.join(sorted(docs))}")


for line in sys.stdin:
    word, doc = line.rstrip("\n").split("\t", 1)
    if word != current:
        emit()
        current, docs = word, set()
    docs.add(doc)
emit()
