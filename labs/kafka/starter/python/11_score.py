"""Step 11: score `orders` with the lab's fraud model, exactly once.

Consume `orders` in group `fraud`, score each order with
data/fraud_model.json, write an alert to `alerts` for each order whose score
reaches the threshold, and commit the consumer's offsets IN the producer's
transaction, so a kill at any moment neither loses nor repeats an alert.
"""
import json
import math
import time

from confluent_kafka import Consumer, KafkaError, Producer

from lab import config, group, topic

with open("data/fraud_model.json") as f:
    MODEL = json.load(f)


def score(order: dict) -> float:
    z = MODEL["bias"] + order["amount"] * MODEL["amount_weight"]
    # TODO: + the country's weight (MODEL["other_country"] when absent)
    # TODO: + MODEL["night_weight"] when order["hour"] is in MODEL["night_hours"]
    return 1 / (1 + math.exp(-z))


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
# TODO: a Producer with a fixed "transactional.id", then init_transactions()
consumer.subscribe([topic("orders")])

at_end = set()
while True:
    batch = consumer.consume(10, timeout=1.0)  # at most 10 orders a transaction
    orders = []
    for msg in batch:
        if msg.error():
            if msg.error().code() == KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
            continue
        at_end.discard(msg.partition())
        orders.append(json.loads(msg.value()))
    if orders:
        time.sleep(MODEL["latency_ms"] / 1000)  # the model server's time
        # TODO: begin_transaction(); produce an alert per risky order
        # (key=order_id, value=json with order_id, customer, score);
        # send_offsets_to_transaction(...); commit_transaction()
    assigned = {p.partition for p in consumer.assignment()}
    if assigned and assigned <= at_end:
        break
consumer.close()
