"""Step 5: one member of group `workers`; start two of these in the background."""
import signal
import time

from confluent_kafka import Consumer

from lab import config, group, topic

# The checker ends the step's background processes with SIGTERM when its
# check is done: leave the group properly instead of dying in it.
running = True


def stop(*_):
    global running
    running = False


signal.signal(signal.SIGTERM, stop)

consumer = Consumer(config(**{"group.id": group("workers"), "auto.offset.reset": "earliest"}))
consumer.subscribe([topic("orders")])
end = time.time() + 25  # stay in the group long enough for the check to see it
seen = None
while running and time.time() < end:
    consumer.poll(0.5)
    parts = sorted(p.partition for p in consumer.assignment())
    if parts != seen:
        print("assigned partitions", parts, flush=True)
        seen = parts
consumer.close()
