"""Shared by the Python templates: where the broker is and your namespace.

The checker runs your step's script with DATALAB_KAFKA_BOOTSTRAP (the
broker) and DATALAB_NAMESPACE (your prefix on a shared cluster) set. The
`datalab kafka` console applies the prefix for you; with the Python client,
name topics and groups through `topic()` and `group()`.
"""
import os

BOOTSTRAP = os.environ.get("DATALAB_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
NAMESPACE = os.environ.get("DATALAB_NAMESPACE", "")


def topic(name: str) -> str:
    """`orders` → `<namespace>_orders` (or `orders` without a namespace)."""
    return f"{NAMESPACE}_{name}" if NAMESPACE else name


def group(name: str) -> str:
    return topic(name)


def config(**extra) -> dict:
    """A confluent-kafka configuration for this broker."""
    return {"bootstrap.servers": BOOTSTRAP, **extra}
