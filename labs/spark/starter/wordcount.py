"""Step 1: word count with DataFrames.

Reads every document of the corpus, splits the lines into words (runs of
letters a-z after lower-casing, as in the MapReduce lab) and writes
`word<TAB>count` lines to out/wordcount.
"""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def word_counts(lines):
    """lines: a DataFrame with one column `value` (a line of text).

    Return a DataFrame with the columns `word` and `count`.
    """
    # TODO: lower-case each line, split it on runs of non-letters
    # (F.split(col, "[^a-z]+")), one row per word (F.explode), drop the
    # empty words, then group by word and count.
    raise NotImplementedError("step 1: write word_counts in wordcount.py")


def main():
    corpus = os.path.join(os.environ["DATALAB_LAB_DATA"], "corpus")
    out = sys.argv[1] if len(sys.argv) > 1 else "out/wordcount"
    spark = (
        SparkSession.builder.appName("wordcount")
        # 200 shuffle partitions by default: far too many for a laptop.
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    counts = word_counts(spark.read.text(corpus))
    counts.write.mode("overwrite").csv(out, sep="\t")
    print(f"{counts.count()} distinct words written to {out}")
    spark.stop()


if __name__ == "__main__":
    main()
