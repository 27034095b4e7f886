"""Step 5: one member of group `workers`; start two of these in the background."""
import time

from confluent_kafka import Consumer

from lab import config, group, topic

consumer = Consumer(config(**{"group.id": group("workers"), "auto.offset.reset": "earliest"}))
consumer.subscribe([topic("orders")])
end = time.time() + 25  # stay in the group long enough for the check to see it
while time.time() < end:
    consumer.poll(0.5)
    # TODO: print(consumer.assignment()) to see which partitions this member got
consumer.close()
