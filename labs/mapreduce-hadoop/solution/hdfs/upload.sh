#!/bin/sh
# Step 4: put a 2.5 MB file into HDFS as /lab/big/corpus.txt.
# Run it from your workspace: sh hdfs/upload.sh
set -e
data="${DATALAB_LAB_DATA:-data}"
mkdir -p big
# The corpus 60 times over: 2,574,060 bytes.
for i in $(seq 1 60); do cat "$data"/corpus/*.txt; done > big/corpus.txt
datalab hdfs dfs -mkdir -p /lab/big
# Blocks of 1 MB instead of HDFS's default 128 MB (the smallest the NameNode allows).
datalab hdfs dfs -D dfs.blocksize=1m -put -f big/corpus.txt /lab/big/corpus.txt
datalab hdfs fsck /lab/big/corpus.txt -files -blocks -locations
