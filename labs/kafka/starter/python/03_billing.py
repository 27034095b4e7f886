"""Step 3: consume `orders` in group `billing`, total per customer, commit."""
import json

from confluent_kafka import Consumer

from lab import config, group, topic

consumer = Consumer(config(**{
    "group.id": group("billing"),
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
}))
consumer.subscribe([topic("orders")])

totals = {}
idle = 0
while idle < 20:  # stop after ~2 s without records
    msg = consumer.poll(0.1)
    if msg is None or msg.error():
        idle += 1
        continue
    idle = 0
    order = json.loads(msg.value())
    # TODO: add order["amount"] to totals[order["customer"]]

# TODO: consumer.commit(asynchronous=False) before closing
consumer.close()
with open("totals.json", "w") as f:
    json.dump({k: round(v, 2) for k, v in totals.items()}, f)
