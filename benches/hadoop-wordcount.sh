#!/usr/bin/env bash
# The MapReduce lab's Python word count on the same input three ways:
# datalab's engine, real Hadoop (`--engine hadoop`, the native hadoop service,
# started if needed) and `cat | map | LC_ALL=C sort | reduce`; prints the
# wall time of each and the ratios to the shell pipe, and checks the three
# outputs are byte-identical (one reducer). Then Hadoop's job submission
# overhead: the same job on a one-line input (upload, YARN, copy back).
# Usage: benches/hadoop-wordcount.sh [SIZE...]
#   SIZE: `20M`, `200M` (the lab corpus, 43 KB, repeated to at least that
#   many MiB) or a bare number of copies of the corpus; default 100 copies.
# Environment: DATALAB (the binary; default target/debug/datalab under
# $CARGO_TARGET_DIR), DATALAB_HOME as for datalab.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/labs/mapreduce"
bin="${DATALAB:-${CARGO_TARGET_DIR:-$root/target}/debug/datalab}"
[ -x "$bin" ] || { echo "no datalab binary at $bin: build it, or set DATALAB or CARGO_TARGET_DIR" >&2; exit 1; }
work=$(mktemp -d /tmp/datalab-hadoop-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
map="python3 solution/wordcount/mapper.py"
red="python3 solution/wordcount/reducer.py"
load() { cut -d' ' -f1-3 /proc/loadavg; }
secs() { local t0=$(date +%s.%N); "$@" >/dev/null 2>&1; printf "%.1f" "$(echo "$(date +%s.%N) - $t0" | bc)"; }
ratio() { printf "%.2f" "$(echo "$1 / $2" | bc -l)"; }
job() { # ENGINE INPUT OUTPUT
    "$bin" mapreduce run --engine "$1" --quiet --overwrite --reducers 1 \
        --input "$2" --mapper "$map" --reducer "$red" --output "$3"
}

# The number of corpus copies for a SIZE argument.
copies_of() {
    case "$1" in
        *M) local bytes; bytes=$(cat data/corpus/*.txt | wc -c)
            echo $(( (${1%M} * 1048576 + bytes - 1) / bytes )) ;;
        *) echo "$1" ;;
    esac
}

one_size() {
    local copies; copies=$(copies_of "$1")
    local in="$work/in-$1"
    mkdir -p "$in"
    for _ in $(seq 1 "$copies"); do cat data/corpus/*.txt; done > "$in/corpus.txt"
    echo "== $1: $(du -h "$in/corpus.txt" | cut -f1), $(wc -w < "$in/corpus.txt") words ($copies copies); $(nproc) cores, load $(load)"
    local d h p
    d=$(secs job datalab "$in" "$work/datalab")
    h=$(secs job hadoop "$in" "$work/hadoop")
    p=$(secs sh -c "cat '$in/corpus.txt' | $map | LC_ALL=C sort | $red > '$work/pipe.txt'")
    echo "datalab engine: $d s ($(ratio "$d" "$p")x the pipe)"
    echo "hadoop (YARN):  $h s ($(ratio "$h" "$p")x the pipe, $(ratio "$h" "$d")x datalab's engine)"
    echo "shell pipe:     $p s"
    cmp "$work/datalab/part-00000" "$work/hadoop/part-00000"
    cmp "$work/datalab/part-00000" "$work/pipe.txt"
    echo "the three outputs are byte-identical; load now $(load)"
    rm -rf "$in" "$work/datalab" "$work/hadoop" "$work/pipe.txt"
}

"$bin" services up hadoop >/dev/null
for size in "${@:-100}"; do one_size "$size"; done

mkdir -p "$work/tiny"
echo "one short line" > "$work/tiny/line.txt"
echo "== job submission overhead (one short line), load $(load)"
echo "datalab engine: $(secs job datalab "$work/tiny" "$work/tiny-datalab") s"
echo "hadoop (YARN):  $(secs job hadoop "$work/tiny" "$work/tiny-hadoop") s"
cmp "$work/tiny-datalab/part-00000" "$work/tiny-hadoop/part-00000"
