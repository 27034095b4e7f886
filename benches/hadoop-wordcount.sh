#!/usr/bin/env bash
# The MapReduce lab's Python word count on the same input three ways:
# datalab's engine, real Hadoop (`--engine hadoop`, the native hadoop service,
# started if needed) and `cat | map | LC_ALL=C sort | reduce`; prints the
# wall time of each and checks the three outputs hold the same lines.
# Usage: benches/hadoop-wordcount.sh [COPIES]   (the lab corpus, 43 KB, COPIES times; default 100)
# Environment: DATALAB (the binary; default target/debug/datalab under
# $CARGO_TARGET_DIR), DATALAB_HOME as for datalab.
set -euo pipefail
cd "$(dirname "$0")/../labs/mapreduce"
copies="${1:-100}"
bin="${DATALAB:-${CARGO_TARGET_DIR:-../../target}/debug/datalab}"
work=$(mktemp -d /tmp/datalab-hadoop-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/input"
for i in $(seq 1 "$copies"); do cat data/corpus/*.txt; done > "$work/input/corpus.txt"
echo "input: $(du -h "$work/input/corpus.txt" | cut -f1), $(wc -w < "$work/input/corpus.txt") words"
map="python3 solution/wordcount/mapper.py"
red="python3 solution/wordcount/reducer.py"
"$bin" services up hadoop >/dev/null
secs() { local t0=$(date +%s.%N); "$@" >/dev/null 2>&1; echo "$(date +%s.%N) - $t0" | bc; }
echo "datalab engine: $(secs "$bin" mapreduce run --quiet --reducers 1 --input "$work/input" --mapper "$map" --reducer "$red" --output "$work/datalab") s"
echo "hadoop (YARN):  $(secs "$bin" mapreduce run --engine hadoop --quiet --reducers 1 --input "$work/input" --mapper "$map" --reducer "$red" --output "$work/hadoop") s"
echo "shell pipe:     $(secs sh -c "cat '$work/input/corpus.txt' | $map | LC_ALL=C sort | $red > '$work/pipe.txt'") s"
cmp "$work/datalab/part-00000" "$work/hadoop/part-00000"
cmp "$work/datalab/part-00000" "$work/pipe.txt"
echo "the three outputs are byte-identical"
