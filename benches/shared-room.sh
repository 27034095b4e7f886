#!/usr/bin/env bash
# A room on one shared cluster: N learners (default 30), each with their
# own login and home as on their own laptop, grade the Kafka lab's
# single-broker steps and the Cassandra lab's one-node steps at once against
# one native Kafka + Cassandra with logins and ACLs on. Prints the total
# time, per-check p50/p95/max, and every check that did not pass (with the
# reference solutions, none should).
# Usage: benches/shared-room.sh [LEARNERS]
# Environment: DATALAB (the binary; default target/debug/datalab under
# $CARGO_TARGET_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-30}"
bin="${DATALAB:-${CARGO_TARGET_DIR:-target}/debug/datalab}"
bin=$(realpath "$bin")
work=$(mktemp -d /tmp/datalab-room-bench.XXXXXX)
teacher="$work/instructor"
trap 'DATALAB_HOME="$teacher" "$bin" services down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export DATALAB_BIN="$bin"
unset DATALAB_PROVIDER DATALAB_NAMESPACE DATALAB_KAFKA_BOOTSTRAP DATALAB_CASSANDRA_CONTACT
DATALAB_HOME="$teacher" "$bin" --provider native services up --shared >/dev/null
kafka_steps="topics keys groups lag scaling global-order retention exactly-once"
cassandra_steps="keyspace table load queries denormalise ttl lwt consistency"
t0=$(date +%s.%N)
for i in $(seq 1 "$n"); do
  name="l$i"
  (cd "$work" && DATALAB_HOME="$teacher" "$bin" services credentials "$name" >/dev/null)
  DATALAB_HOME="$work/$name" "$bin" services login "$work/$name.credentials.yaml" >/dev/null
  cp -r labs/kafka/solution "$work/$name-kafka"
  cp -r labs/cassandra/solution "$work/$name-cassandra"
done
echo "$n learners given logins in $(echo "$(date +%s.%N) - $t0" | bc) s"
steps=()
for s in $kafka_steps; do steps+=(--step "$s"); done
csteps=()
for s in $cassandra_steps; do csteps+=(--step "$s"); done
echo "load average before grading: $(cut -d' ' -f1-3 /proc/loadavg)"
t0=$(date +%s.%N)
for i in $(seq 1 "$n"); do
  name="l$i"
  (
    export DATALAB_HOME="$work/$name"
    "$bin" grade --lab kafka "${steps[@]}" --workspace "$work/$name-kafka" --format json --out "$work/$name-kafka.json" 2>/dev/null || true
    "$bin" grade --lab cassandra "${csteps[@]}" --workspace "$work/$name-cassandra" --format json --out "$work/$name-cassandra.json" 2>/dev/null || true
  ) &
done
wait
total=$(echo "$(date +%s.%N) - $t0" | bc)
python3 - "$work" "$n" "$total" <<'PY'
import json, glob, sys
work, n, total = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
checks, bad, by_lab, slow = [], [], {}, []
for f in sorted(glob.glob(f"{work}/*.json")):
    report = json.load(open(f))
    lab = f.rsplit("-", 1)[-1].removesuffix(".json")
    for c in report.get("checks", report if isinstance(report, list) else []):
        checks.append(c["duration_ms"])
        by_lab.setdefault(lab, []).append(c["duration_ms"])
        slow.append((c["duration_ms"], f"{lab} {c['step']}: {c.get('check', c.get('kind', ''))}"))
        if not c["passed"]:
            bad.append(f"{f.split('/')[-1]} {c['step']}: {c['message']}")
def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p * len(xs)))] if xs else 0
print(f"{n} learners graded (kafka: 8 single-broker steps, cassandra: 8 one-node steps) in {total:.1f} s")
print(f"checks: {len(checks)}, p50 {pct(checks, 0.5)} ms, p95 {pct(checks, 0.95)} ms, max {max(checks, default=0)} ms")
for lab, xs in sorted(by_lab.items()):
    print(f"  {lab}: {len(xs)} checks, p50 {pct(xs, 0.5)} ms, p95 {pct(xs, 0.95)} ms, max {max(xs)} ms")
print("slowest checks:")
for ms, what in sorted(slow, reverse=True)[:8]:
    print(f"  {ms} ms {what}")
print(f"checks not passed: {len(bad)}")
for b in bad[:20]:
    print("  " + b)
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
