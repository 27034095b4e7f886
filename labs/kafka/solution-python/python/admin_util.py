"""Topic housekeeping for the reference scripts, so each step can run again:
delete and re-create a topic."""
import time

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

from lab import config, topic


def admin() -> AdminClient:
    return AdminClient(config())


def recreate(name: str, partitions: int, replication: int = 1) -> None:
    """Delete `name` if it exists, then create it empty."""
    a = admin()
    full = topic(name)
    if full in a.list_topics(timeout=10).topics:
        for f in a.delete_topics([full], operation_timeout=10).values():
            f.result()
        deadline = time.time() + 30
        while full in a.list_topics(timeout=10).topics and time.time() < deadline:
            time.sleep(0.2)
    deadline = time.time() + 30
    while True:
        try:
            new = NewTopic(full, num_partitions=partitions, replication_factor=replication)
            for f in a.create_topics([new], operation_timeout=10).values():
                f.result()
            break
        except KafkaException as e:
            # Right after a delete the broker may still be removing it.
            if time.time() > deadline:
                raise
            print("retrying create:", e)
            time.sleep(0.5)
    # Wait until every partition has a leader.
    deadline = time.time() + 30
    while time.time() < deadline:
        t = a.list_topics(full, timeout=10).topics.get(full)
        if t and t.error is None and len(t.partitions) == partitions and all(
            p.leader >= 0 for p in t.partitions.values()
        ):
            return
        time.sleep(0.2)
    raise SystemExit(f"topic {name} has no leaders after 30 s")

