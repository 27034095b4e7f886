"""Step 2: produce data/orders.jsonl to `orders`, keyed by customer."""
import json

from confluent_kafka import Producer

from lab import config, topic

# acks=all with the idempotent producer: no duplicates, order kept per partition.
producer = Producer(config(**{"acks": "all", "enable.idempotence": True}))

with open("data/orders.jsonl") as f:
    for line in f:
        order = json.loads(line)
        # TODO: producer.produce(topic("orders"), key=..., value=line.strip())
        pass

producer.flush(10)
