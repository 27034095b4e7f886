"""Step 2: produce the lab's orders.jsonl to `orders`, keyed by customer."""
import json
import os

from confluent_kafka import Producer

from lab import config, topic

# acks=all with the idempotent producer: no duplicates, order kept per partition.
producer = Producer(config(**{"acks": "all", "enable.idempotence": True}))

# The lab's data, wherever the workspace is (set by datalab).
with open(os.path.join(os.environ["DATALAB_LAB_DATA"], "orders.jsonl")) as f:
    for line in f:
        order = json.loads(line)
        # TODO: producer.produce(topic("orders"), key=..., value=line.strip())
        pass

producer.flush(10)
