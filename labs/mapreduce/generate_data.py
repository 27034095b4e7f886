#!/usr/bin/env python3
"""Regenerate labs/mapreduce/data/ (deterministic: same files every run).

    python3 labs/mapreduce/generate_data.py

corpus/doc01.txt ... doc08.txt  short texts for word count and the inverted index
shop/customers.csv, shop/orders.csv  for the reduce-side join (some orders have
                                     no known customer, some customers no order)
sales.csv                            for top-N per region
"""
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")

TOPICS = {
    "storage": "disk block replica file system namenode datanode rack copy bytes chunk".split(),
    "compute": "map reduce task job split shuffle sort key value combiner partition".split(),
    "streams": "event log topic broker offset consumer producer stream window latency".split(),
    "databases": "document collection index query shard replica node keyspace table row".split(),
    "people": "engineer analyst team customer manager student teacher reader".split(),
}
COMMON = ("the a of to and in is it that for on with as was be by this are from or an "
          "at which but not have has had all can one more when will each we they "
          "data big fast slow many few new old large small every some").split()
VERBS = "reads writes stores sends counts sorts joins groups moves keeps finds builds runs".split()
DOC_TOPICS = [
    ("storage", "compute"), ("compute",), ("streams", "compute"), ("databases",),
    ("streams",), ("storage", "databases"), ("people", "compute"), ("people", "streams"),
]


def sentence(rng, topics):
    words = []
    for _ in range(rng.randint(6, 16)):
        r = rng.random()
        if r < 0.45:
            words.append(rng.choice(COMMON[: rng.randint(3, len(COMMON))]))
        elif r < 0.6:
            words.append(rng.choice(VERBS))
        else:
            words.append(rng.choice(TOPICS[rng.choice(topics)]))
    words[0] = words[0].capitalize()
    text = " ".join(words)
    if rng.random() < 0.3:
        cut = rng.randint(1, len(words) - 1)
        text = " ".join(words[:cut]) + ", " + " ".join(words[cut:])
    return text + rng.choice([".", ".", ".", "!", "?"])


def corpus(rng):
    os.makedirs(os.path.join(DATA, "corpus"), exist_ok=True)
    for i, topics in enumerate(DOC_TOPICS, start=1):
        paras = []
        for _ in range(rng.randint(14, 22)):
            paras.append(" ".join(sentence(rng, topics) for _ in range(rng.randint(3, 7))))
        with open(os.path.join(DATA, "corpus", f"doc{i:02}.txt"), "w") as f:
            f.write("\n".join(paras) + "\n")


FIRST = "Ada Alan Grace Edsger Barbara Donald Margaret Ken Dennis Frances Tim Radia Linus Guido Niklaus".split()
LAST = "Lovelace Turing Hopper Dijkstra Liskov Knuth Hamilton Thompson Ritchie Allen Berners Perlman Torvalds Rossum Wirth".split()
COUNTRIES = "Italy France Germany Spain Portugal Austria Poland Greece Ireland Norway".split()


def shop(rng):
    os.makedirs(os.path.join(DATA, "shop"), exist_ok=True)
    with open(os.path.join(DATA, "shop", "customers.csv"), "w") as f:
        f.write("customer_id,name,country\n")
        for c in range(1, 151):
            f.write(f"C{c:04},{rng.choice(FIRST)} {rng.choice(LAST)},{rng.choice(COUNTRIES)}\n")
    with open(os.path.join(DATA, "shop", "orders.csv"), "w") as f:
        f.write("order_id,customer_id,amount\n")
        for o in range(1, 2001):
            # Customers C0151..C0160 do not exist: their orders drop out of an inner join.
            cust = rng.randint(1, 160)
            amount = rng.randint(500, 50000)
            f.write(f"O{o:05},C{cust:04},{amount // 100}.{amount % 100:02}\n")


REGIONS = "north south east west centre islands".split()
PRODUCTS = ("laptop phone tablet monitor keyboard mouse headset webcam router printer "
            "speaker charger cable dock camera drone watch console controller lamp "
            "desk chair backpack notebook pen").split()


def sales(rng):
    with open(os.path.join(DATA, "sales.csv"), "w") as f:
        f.write("date,region,product,quantity,unit_price\n")
        for _ in range(3000):
            day = rng.randint(1, 28)
            month = rng.randint(1, 12)
            region = rng.choice(REGIONS)
            # Skewed: a few products sell far more in some regions.
            product = PRODUCTS[min(int(rng.expovariate(0.18)), len(PRODUCTS) - 1)]
            if rng.random() < 0.3:
                product = rng.choice(PRODUCTS)
            qty = rng.randint(1, 9)
            price = rng.randint(3, 900)
            f.write(f"2024-{month:02}-{day:02},{region},{product},{qty},{price}\n")


def main():
    rng = random.Random(20241125)
    corpus(rng)
    shop(rng)
    sales(rng)


if __name__ == "__main__":
    main()
