"""Steps 4 and 5: orders per 10-second window, from Kafka to Kafka.

Reads the Kafka lab's `orders` topic, counts the orders per 10 s window of
their Kafka timestamp (event time) with a 5 s watermark, and writes each
updated window to the topic `order-counts` as JSON
`{"start": <window start, epoch seconds>, "count": <orders>}`, keyed by the
window start. The checkpoint folder (first argument) keeps the Kafka
offsets and the window counts between runs.
"""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

NAMESPACE = os.environ.get("DATALAB_NAMESPACE", "")


def topic(name):
    return f"{NAMESPACE}_{name}" if NAMESPACE else name


def window_counts(orders):
    """orders: Kafka records (key, value, timestamp, ...)."""
    counts = (
        orders.withWatermark("timestamp", "5 seconds")
        .groupBy(F.window("timestamp", "10 seconds"))
        .count()
    )
    start = F.unix_timestamp(F.col("window.start"))
    return counts.select(
        start.cast("string").alias("key"),
        F.to_json(F.struct(start.alias("start"), F.col("count"))).alias("value"),
    )


def main():
    checkpoint = sys.argv[1] if len(sys.argv) > 1 else "checkpoints/order-counts"
    bootstrap = os.environ["DATALAB_KAFKA_BOOTSTRAP"]
    spark = (
        SparkSession.builder.appName("order-counts")
        # Each micro-batch shuffles into this many state partitions.
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    orders = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("subscribe", topic("orders"))
        .option("startingOffsets", "earliest")
        .load()
    )
    query = (
        window_counts(orders)
        .writeStream.format("kafka")
        .option("kafka.bootstrap.servers", bootstrap)
        .option("topic", topic("order-counts"))
        .option("checkpointLocation", checkpoint)
        .outputMode("update")
        # Read what is in the topic now, in micro-batches, then stop.
        .trigger(availableNow=True)
        .start()
    )
    query.awaitTermination()
    print(f"last batch: {query.lastProgress and query.lastProgress['batchId']}")
    spark.stop()


if __name__ == "__main__":
    main()
