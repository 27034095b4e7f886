"""Step 2: the same pipeline twice, without and with cache().

Each run is one action (a count of the distinct words), timed here; the
check reads Spark's event log to see which one Spark served from memory.
"""
import os
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def word_counts(lines):
    """Step 1's pipeline, done for you."""
    words = lines.select(
        F.explode(F.split(F.lower("value"), "[^a-z]+")).alias("word")
    ).where(F.col("word") != "")
    return words.groupBy("word").count()


def timed(label, action):
    t0 = time.monotonic()
    result = action()
    print(f"{label}: {result} words in {time.monotonic() - t0:.2f} s")


def main():
    corpus = os.path.join(os.environ["DATALAB_LAB_DATA"], "corpus")
    spark = (
        SparkSession.builder.appName("cache")
        # 200 shuffle partitions by default: far too many for a laptop.
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")

    plain = word_counts(spark.read.text(corpus))
    timed("no cache, run 1", plain.count)
    timed("no cache, run 2", plain.count)

    # TODO: cache this DataFrame, so that its second count is read from
    # memory instead of being computed from the files again.
    cached = word_counts(spark.read.text(corpus))
    timed("cache(), run 1 (fills the cache)", cached.count)
    timed("cache(), run 2 (from memory)", cached.count)
    cached.unpersist()
    spark.stop()


if __name__ == "__main__":
    main()
