"""Step 8: 10 records in a committed transaction, 5 in an aborted one."""
import os

from confluent_kafka import Producer

from lab import config, topic

# The transactional id lies in your namespace too (a shared cluster allows
# you only ids that start with your prefix).
producer = Producer(config(**{"transactional.id": topic(f"payments-tx-{os.getpid()}")}))
producer.init_transactions(10)

producer.begin_transaction()
for i in range(10):
    producer.produce(topic("payments-tx"), value=f"payment-ok-{i}")
# TODO: producer.commit_transaction(10)

# TODO: a second transaction of 5 records, then producer.flush(10) (so they
# reach the log) and producer.abort_transaction(10)
