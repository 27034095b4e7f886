"""Shared by the Python templates: where the broker is and your namespace.

The checker runs your step's script with DATALAB_KAFKA_BOOTSTRAP (the
broker) and DATALAB_NAMESPACE (your prefix on a shared cluster) set. The
`datalab kafka` console applies the prefix for you; with the Python client,
name topics and groups through `topic()` and `group()`.

On a room's shared cluster the broker wants your login: the checker then
also sets DATALAB_KAFKA_SECURITY_PROTOCOL, DATALAB_KAFKA_SASL_MECHANISM,
DATALAB_KAFKA_SASL_USERNAME and DATALAB_KAFKA_SASL_PASSWORD, and `config()`
passes them on. Never print the password.
"""
import os

BOOTSTRAP = os.environ.get("DATALAB_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
NAMESPACE = os.environ.get("DATALAB_NAMESPACE", "")


def topic(name: str) -> str:
    """`orders` → `<namespace>_orders` (or `orders` without a namespace)."""
    return f"{NAMESPACE}_{name}" if NAMESPACE else name


def group(name: str) -> str:
    return topic(name)


def login() -> dict:
    """Your login on a shared cluster, as confluent-kafka settings (none
    when the broker wants no login)."""
    user = os.environ.get("DATALAB_KAFKA_SASL_USERNAME")
    if not user:
        return {}
    return {
        "security.protocol": os.environ.get("DATALAB_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
        "sasl.mechanism": os.environ.get("DATALAB_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),
        "sasl.username": user,
        "sasl.password": os.environ.get("DATALAB_KAFKA_SASL_PASSWORD", ""),
    }


def config(**extra) -> dict:
    """A confluent-kafka configuration for this broker (with your login)."""
    return {"bootstrap.servers": BOOTSTRAP, **login(), **extra}
