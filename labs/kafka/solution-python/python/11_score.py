"""Step 11: score `orders` with the lab's fraud model, exactly once.

The alerts of a batch and the consumer offsets past that batch are written
in ONE transaction: killed at any moment, the restart resumes from the last
committed batch, and the killed run's open transaction is aborted (the
restarted producer has the same transactional.id), so read_committed
readers of `alerts` see every alert once.
"""
import json
import math
import time

import confluent_kafka
from confluent_kafka import Consumer, KafkaError, Producer

from lab import config, group, topic

with open("data/fraud_model.json") as f:
    MODEL = json.load(f)


def score(order: dict) -> float:
    z = (MODEL["bias"]
         + order["amount"] * MODEL["amount_weight"]
         + MODEL["country_weights"].get(order["country"], MODEL["other_country"])
         + (MODEL["night_weight"] if order["hour"] in MODEL["night_hours"] else 0))
    return 1 / (1 + math.exp(-z))


producer = Producer(config(**{"transactional.id": topic("fraud-scorer")}))
producer.init_transactions(30)  # fences a killed predecessor, aborts its transaction

consumer = Consumer(config(**{
    "group.id": group("fraud"),
    # A killed member stays in the group until its session times out: keep
    # that short, so the restart gets the partitions within seconds.
    "session.timeout.ms": 6000,
    "isolation.level": "read_committed",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
    "enable.partition.eof": True,
}))
consumer.subscribe([topic("orders")])

at_end = set()
scored = alerts = 0
while True:
    batch = consumer.consume(10, timeout=1.0)  # at most 10 orders a transaction
    orders = []
    for msg in batch:
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                continue
            raise SystemExit(f"consume failed: {msg.error()}")
        at_end.discard(msg.partition())
        orders.append(json.loads(msg.value()))
    if orders:
        time.sleep(MODEL["latency_ms"] / 1000)  # the model server's time
        producer.begin_transaction()
        for o in orders:
            s = score(o)
            if s >= MODEL["threshold"]:
                alert = {"order_id": o["order_id"], "customer": o["customer"], "score": round(s, 4)}
                producer.produce(topic("alerts"), key=o["order_id"], value=json.dumps(alert))
                alerts += 1
        # The offsets past this batch, committed by the transaction itself.
        producer.send_offsets_to_transaction(
            consumer.position(consumer.assignment()),
            consumer.consumer_group_metadata(), 30)
        producer.commit_transaction(30)
        scored += len(orders)
        print(f"committed a batch: {scored} orders scored, {alerts} alerts", flush=True)
    assigned = {p.partition for p in consumer.assignment()}
    if assigned and assigned <= at_end:
        break
consumer.close()
print(f"done with confluent-kafka {confluent_kafka.__version__}", flush=True)
