"""Step 2: produce the lab's orders.jsonl to `orders`, keyed by customer."""
import json
import os

import confluent_kafka
from confluent_kafka import Producer

from admin_util import recreate
from lab import config, topic

recreate("orders", 3)  # start from an empty topic: no duplicates on a rerun

# acks=all with the idempotent producer: no duplicates, order kept per partition.
producer = Producer(config(**{"acks": "all", "enable.idempotence": True}))
errors = []


def delivered(err, msg):
    if err is not None:
        errors.append(err)


n = 0
# The lab's data, wherever the workspace is (set by datalab).
with open(os.path.join(os.environ["DATALAB_LAB_DATA"], "orders.jsonl")) as f:
    for line in f:
        if not line.strip():
            continue
        order = json.loads(line)
        producer.produce(topic("orders"), key=order["customer"], value=line.strip(),
                         on_delivery=delivered)
        n += 1
left = producer.flush(10)
if left or errors:
    raise SystemExit(f"{left} record(s) not delivered, errors: {errors}")
print(f"produced {n} orders keyed by customer with confluent-kafka {confluent_kafka.__version__}")
