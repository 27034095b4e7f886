#!/bin/sh
# Run every fuzz target for a while (default 120 s each), one after the
# other, at the lowest priority. Not for CI: a learner or an instructor's
# text must never panic datalab, and this looks for inputs that do.
#
#   fuzz/run.sh [SECONDS] [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`). It wants nightly
# features; on the stable toolchain RUSTC_BOOTSTRAP=1 unlocks them (set
# FUZZ_TOOLCHAIN=+nightly to use a nightly toolchain instead). Crashes land
# in fuzz/artifacts/TARGET/; replay one with
#   cargo fuzz run TARGET fuzz/artifacts/TARGET/crash-…
# Each target's corpus (fuzz/corpus/TARGET, not committed) starts from the
# shipped content and a few console lines.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
seconds=${1:-120}
[ $# -gt 0 ] && shift
targets=${*:-"content_course content_quiz content_lab content_lesson quiz_answer kafka_line mongo_line cql_line mapreduce_records live_event live_commands"}
toolchain=${FUZZ_TOOLCHAIN:-}
[ -z "$toolchain" ] && export RUSTC_BOOTSTRAP=1

seed() { # seed TARGET FILE... : copy files into an empty corpus
    dir="$here/corpus/$1"; shift
    mkdir -p "$dir"
    [ -n "$(ls -A "$dir")" ] && return 0
    for f in "$@"; do [ -f "$f" ] && cp "$f" "$dir/$(echo "$f" | tr / _)"; done
    return 0
}
line() { # line TARGET TEXT : one seed line
    mkdir -p "$here/corpus/$1"
    printf '%s' "$2" > "$here/corpus/$1/seed-$(printf '%s' "$2" | cksum | cut -d' ' -f1)"
}
cd "$top"
seed content_course course.yaml tests/fixtures/*/course.yaml
seed content_quiz quizzes/*.yaml
seed content_lab labs/*/lab.yaml
seed content_lesson lessons/*.md
seed mapreduce_records labs/mapreduce/data/corpus/doc01.txt labs/mapreduce/data/sales.csv
line quiz_answer "aaa1,3"
line quiz_answer "bbbt"
line quiz_answer "ccc3.5e9"
line kafka_line "produce orders --key c1 --file data/orders.jsonl"
line kafka_line "consume orders --group billing --from-beginning --max 10"
line kafka_line "topics create t --partitions 3 --config retention.ms=1000"
line mongo_line 'find tweets {"lang": "en", "likes": {"$gt": 5}} --limit 5 --sort {"likes": -1}'
line mongo_line 'aggregate tweets [{"$group": {"_id": "$lang", "n": {"$sum": 1}}}]'
line mongo_line '{"_id": {"$oid": "507f1f77bcf86cd799439011"}, "at": {"$date": "2024-01-01T00:00:00Z"}}'
line cql_line "SELECT * FROM iot.readings WHERE sensor_id = 's1' AND day = '2024-01-01';"
line cql_line "COPY iot.r (a, b) FROM 'data/readings.csv' WITH HEADER = TRUE; CONSISTENCY QUORUM;"
line cql_line "INSERT INTO t (a) VALUES ('x''y') IF NOT EXISTS; -- c
/* block */ SELECT \$\$a;b\$\$ FROM t;"
line live_event 'event: live
data: {"version":3,"activity":{"id":"a","title":"A","phases":[{"title":"p","secs":60}],"phase":0,"running":true,"remaining_ms":5000},"poll":null,"note":null}'
line live_commands '{"cmd":"start_activity","id":"a","title":"A","phases":[{"title":"p","secs":60},{"title":"q","secs":30}]}
{"cmd":"pause"}
{"cmd":"add_minute"}
{"cmd":"open_poll","quiz":"q","title":"Q","questions":[{"id":"q1","prompt":"?","options":["T","F"],"right":[0],"explanation":"e"}]}
{"question":"q1","options":[1]}
{"cmd":"reveal"}
{"cmd":"next_phase"}'
cd "$here"
for t in $targets; do
    echo "== $t (${seconds}s)"
    nice -n 19 cargo $toolchain fuzz run --sanitizer none --debug-assertions "$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        2>&1 | grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss|==[0-9]+== ERROR|SUMMARY|Done|thread .* panicked|artifact_prefix)' || true
done
