"""Step 8: 10 records in a committed transaction, 5 in an aborted one."""
import os

import confluent_kafka
from confluent_kafka import Producer

from admin_util import recreate
from lab import config, topic

recreate("payments-tx", 1)

# The transactional id lies in your namespace too (a shared cluster allows
# you only ids that start with your prefix).
producer = Producer(config(**{"transactional.id": topic(f"payments-tx-{os.getpid()}")}))
producer.init_transactions(10)

producer.begin_transaction()
for i in range(10):
    producer.produce(topic("payments-tx"), value=f"payment-ok-{i}")
producer.commit_transaction(10)

producer.begin_transaction()
for i in range(5):
    producer.produce(topic("payments-tx"), value=f"payment-bad-{i}")
# Send them first: abort_transaction drops records still in the producer's
# queue, and then there would be nothing aborted in the log to skip.
producer.flush(10)
producer.abort_transaction(10)
print(f"10 committed, 5 aborted with confluent-kafka {confluent_kafka.__version__}")
