"""Step 3: revenue per country, a join and an aggregation.

Joins the orders with their customers, sums the amounts per country and
writes `country<TAB>total` lines to out/revenue; explain() prints the plan.
"""
import os
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def revenue_per_country(orders, customers):
    joined = orders.join(customers, "customer_id")
    return joined.groupBy("country").agg(F.round(F.sum("amount"), 2).alias("revenue"))


def main():
    shop = os.path.join(os.environ["DATALAB_LAB_DATA"], "shop")
    out = sys.argv[1] if len(sys.argv) > 1 else "out/revenue"
    spark = (
        SparkSession.builder.appName("shop")
        # 200 shuffle partitions by default: far too many for a laptop.
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    read = spark.read.option("header", True).option("inferSchema", True)
    orders = read.csv(os.path.join(shop, "orders.csv"))
    customers = read.csv(os.path.join(shop, "customers.csv"))
    revenue = revenue_per_country(orders, customers)
    revenue.explain()
    revenue.write.mode("overwrite").csv(out, sep="\t")
    spark.stop()


if __name__ == "__main__":
    main()
