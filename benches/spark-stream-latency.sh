#!/usr/bin/env bash
# End-to-end latency of the Spark lab's streaming step (step 4's query, run
# continuously instead of `availableNow`): an order produced to Kafka →
# its 10-second window's updated count visible in the output topic.
#   1. a native Kafka (the one of DATALAB_HOME if it runs, else a new one
#      in a temporary home, stopped at the end);
#   2. the lab's windowed count (10 s windows, 5 s watermark, update mode)
#      from `bench-orders` to `bench-counts`, trigger every TRIGGER;
#   3. a Python prober (confluent-kafka in datalab's venv) that produces one
#      order at a time and waits until the count of its window includes it.
# Prints the time until the query first answered, then the median, p90 and
# maximum of PROBES latencies.
# Usage: benches/spark-stream-latency.sh [PROBES] [TRIGGER]   (default 30, "1 second")
# Environment: DATALAB (the binary; default target/debug/datalab under
# $CARGO_TARGET_DIR), DATALAB_HOME, DATALAB_CACHE. Needs `datalab spark install`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
probes="${1:-30}"
trigger="${2:-1 second}"
bin="${DATALAB:-${CARGO_TARGET_DIR:-$root/target}/debug/datalab}"
[ -x "$bin" ] || { echo "no datalab binary at $bin: build it, or set DATALAB or CARGO_TARGET_DIR" >&2; exit 1; }
bin=$(realpath "$bin")
python="${DATALAB_CACHE:-$HOME/.cache/datalab}/venv/bin/python"
[ -x "$python" ] || { echo "no venv at $python: run datalab spark install" >&2; exit 1; }
work=$(mktemp -d /tmp/datalab-stream-bench.XXXXXX)
export DATALAB_HOME="${DATALAB_HOME:-$work/home}"
unset DATALAB_NAMESPACE DATALAB_KAFKA_BOOTSTRAP
started=""
spark_pid=""
cleanup() {
  [ -n "$spark_pid" ] && kill -- "-$spark_pid" 2>/dev/null || true
  [ -n "$started" ] && "$bin" services down kafka >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
echo "$(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg); trigger every $trigger, $probes probes"

bootstrap() { "$bin" services status 2>/dev/null | awk '/^kafka +up/ {k=1} k && $1 == "endpoint" {print $2; exit}'; }
if [ -z "$(bootstrap)" ]; then
  "$bin" --provider native services up kafka >/dev/null
  started=1
fi
export DATALAB_KAFKA_BOOTSTRAP="$(bootstrap)"
for t in bench-orders bench-counts; do "$bin" kafka topics delete "$t" --if-exists >/dev/null; done
"$bin" kafka topics create bench-orders --partitions 3 --replication-factor 1 >/dev/null
"$bin" kafka topics create bench-counts --partitions 1 --replication-factor 1 >/dev/null

# The lab's solution (labs/spark/solution/stream.py) with the bench's topics
# and a processing-time trigger in place of availableNow.
cd "$work"
sed -e 's/topic("orders")/"bench-orders"/' -e 's/topic("order-counts")/"bench-counts"/' \
    -e "s/\.trigger(availableNow=True)/.trigger(processingTime=\"$trigger\")/" \
    "$root/labs/spark/solution/stream.py" > stream.py
grep -q 'processingTime' stream.py || { echo "could not set the trigger in stream.py" >&2; exit 1; }
export BENCH_START=$(date +%s.%N)
setsid "$bin" spark submit --kafka stream.py "$work/checkpoint" > spark.log 2>&1 &
spark_pid=$!

cat > probe.py <<'PY'
import json, os, statistics, sys, time, uuid
from confluent_kafka import Consumer, Producer

bootstrap, probes = os.environ["DATALAB_KAFKA_BOOTSTRAP"], int(sys.argv[1])
producer = Producer({"bootstrap.servers": bootstrap})
consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4()}",
                     "auto.offset.reset": "earliest", "enable.auto.commit": False})
consumer.subscribe(["bench-counts"])
produced, seen = {}, {}


def produce():
    """One order now; returns its window start and the time it was sent."""
    ts = int(time.time() * 1000)
    window = ts // 10_000 * 10
    produced[window] = produced.get(window, 0) + 1
    order = {"order_id": str(uuid.uuid4()), "customer": "bench", "amount": 1.0}
    producer.produce("bench-orders", key="bench", value=json.dumps(order), timestamp=ts)
    producer.flush(30)
    return window, time.monotonic()


def counted(window, deadline):
    """Waits until the output shows `window` with every order produced in it."""
    while time.monotonic() < deadline:
        if seen.get(window, 0) >= produced[window]:
            return True
        msg = consumer.poll(0.05)
        if msg is None or msg.error():
            continue
        v = json.loads(msg.value())
        seen[v["start"]] = max(seen.get(v["start"], 0), v["count"])
    return False


t0 = time.monotonic()
while True:  # the query starts: Spark's start-up, the first micro-batch
    window, _ = produce()
    if counted(window, time.monotonic() + 5):
        break
    if time.monotonic() - t0 > 600:
        sys.exit("the streaming query produced nothing in 10 minutes: see spark.log")
print(f"first window count {time.time() - float(os.environ['BENCH_START']):.1f} s after spark submit")
lat = []
for _ in range(probes):
    window, sent = produce()
    if not counted(window, sent + 120):
        sys.exit(f"window {window} never showed {produced[window]} orders")
    lat.append(time.monotonic() - sent)
    time.sleep(0.3)
lat.sort()
p90 = lat[min(len(lat) - 1, int(0.9 * len(lat)))]
print(f"order produced -> window count visible: median {statistics.median(lat):.2f} s, "
      f"p90 {p90:.2f} s, max {lat[-1]:.2f} s, min {lat[0]:.2f} s ({len(lat)} probes)")
PY
"$python" probe.py "$probes" || { tail -n 30 spark.log >&2; exit 1; }
