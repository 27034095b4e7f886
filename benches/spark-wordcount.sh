#!/usr/bin/env bash
# Spark against datalab's MapReduce engine on the same word count:
#   1. Spark start-up: `datalab spark submit` of a script that only starts
#      and stops a SparkSession (local[2]);
#   2. the MapReduce lab's Python word count with datalab's engine;
#   3. the Spark lab's DataFrame word count with `--master local[2]`,
#      its whole process and the write alone (the job, after start-up);
# and checks that both outputs hold the same counts.
# Usage: benches/spark-wordcount.sh [COPIES | FILE]
#   COPIES: the lab corpus (43 KB) that many times (default 100);
#   FILE:   a text of your own, e.g. the MapReduce bench's 200 MB text:
#     DATALAB_BENCH_TEXT_ONLY=1 cargo bench --profile dev --bench mapreduce   # prints its path
#     benches/spark-wordcount.sh target/bench-data/mapreduce-200M.txt
# Environment: DATALAB (the binary; default target/debug/datalab under
# $CARGO_TARGET_DIR), DATALAB_HOME as for datalab. Needs `datalab spark install`.
set -euo pipefail
# Python's default (block) buffering for the mapper and reducer, as in the
# MapReduce bench: a PYTHONUNBUFFERED in the environment makes every print a
# write of its own and slows datalab's side, not Spark's.
unset PYTHONUNBUFFERED
root="$(cd "$(dirname "$0")/.." && pwd)"
arg="${1:-100}"
bin="${DATALAB:-${CARGO_TARGET_DIR:-$root/target}/debug/datalab}"
[ -x "$bin" ] || { echo "no datalab binary at $bin: build it, or set DATALAB or CARGO_TARGET_DIR" >&2; exit 1; }
work=$(mktemp -d /tmp/datalab-spark-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/input"
if [ -f "$arg" ]; then
  ln -s "$(realpath "$arg")" "$work/input/corpus.txt"
else
  for i in $(seq 1 "$arg"); do cat "$root"/labs/mapreduce/data/corpus/*.txt; done > "$work/input/corpus.txt"
fi
echo "input: $(du -hL "$work/input/corpus.txt" | cut -f1), $(wc -w < "$work/input/corpus.txt") words; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
cd "$work"
secs() { local t0=$(date +%s.%N); "$@" >/dev/null 2>&1; printf "%.2f" "$(echo "$(date +%s.%N) - $t0" | bc)"; }

cat > start.py <<'PY'
from pyspark.sql import SparkSession
SparkSession.builder.appName("start").getOrCreate().stop()
PY
# The lab's solution, its write timed inside the job.
sed -e 's/^    counts.write/    import time; t0 = time.monotonic()\n    counts.write/' \
    -e 's/^    print(f"{counts.count()}.*/    print(f"write: {time.monotonic() - t0:.2f} s")/' \
    "$root/labs/spark/solution/wordcount.py" > wordcount.py
mkdir -p data && ln -s "$work/input" data/corpus
export DATALAB_LAB_DATA="$work/data"

echo "spark start-up (session start + stop, local[2]): $(secs "$bin" spark submit --master 'local[2]' start.py) s"
map="python3 $root/labs/mapreduce/solution/wordcount/mapper.py"
red="python3 $root/labs/mapreduce/solution/wordcount/reducer.py"
echo "datalab engine word count: $(secs "$bin" mapreduce run --quiet --reducers 2 --input "$work/input" --mapper "$map" --reducer "$red" --output "$work/datalab") s"
t0=$(date +%s.%N)
"$bin" spark submit --master 'local[2]' wordcount.py "$work/spark" > spark.log 2>&1
echo "spark local[2] word count, whole process: $(printf "%.2f" "$(echo "$(date +%s.%N) - $t0" | bc)") s ($(grep '^write:' spark.log))"
sort "$work"/datalab/part-* > a.txt
sort "$work"/spark/part-* > b.txt
cmp a.txt b.txt
echo "both outputs hold the same $(wc -l < a.txt) counts"
