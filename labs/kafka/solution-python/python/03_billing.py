"""Step 3: consume `orders` in group `billing`, total per customer, commit."""
import json

import confluent_kafka
from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError

from lab import config, group, topic

consumer = Consumer(config(**{
    "group.id": group("billing"),
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
}))


def from_the_beginning(c, partitions):
    """Whatever the group committed before, a rerun reads everything again."""
    for p in partitions:
        p.offset = OFFSET_BEGINNING
    c.assign(partitions)


consumer.subscribe([topic("orders")], on_assign=from_the_beginning)

totals = {}
at_end = set()
idle = 0
# Stop after ~5 s without records (15 s while the group is still forming).
while idle < (50 if consumer.assignment() else 150):
    msg = consumer.poll(0.1)
    if msg is None:
        idle += 1
        continue
    if msg.error():
        if msg.error().code() == KafkaError._PARTITION_EOF:
            at_end.add(msg.partition())
            assigned = {p.partition for p in consumer.assignment()}
            if assigned and assigned <= at_end:
                break  # read every assigned partition to its end
            continue
        raise SystemExit(f"consume failed: {msg.error()}")
    idle = 0
    at_end.discard(msg.partition())
    order = json.loads(msg.value())
    totals[order["customer"]] = totals.get(order["customer"], 0) + order["amount"]

consumer.commit(asynchronous=False)
consumer.close()
with open("totals.json", "w") as f:
    json.dump({k: round(v, 2) for k, v in totals.items()}, f)
print(f"totals of {len(totals)} customers with confluent-kafka {confluent_kafka.__version__}")
