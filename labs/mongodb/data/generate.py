#!/usr/bin/env python3
"""Generate the MongoDB lab's dataset: tweets.json and users.json.

Deterministic (fixed seed): running it again gives byte-identical files, so
the committed data and the checks' expectations never drift. Dates are
MongoDB Extended JSON ({"$date": ...}); `day` repeats the date as text so
grouping by day needs no date operators.

    python3 generate.py        # writes tweets.json and users.json here
"""
import json
import os
import random

rng = random.Random(20240301)
HERE = os.path.dirname(os.path.abspath(__file__))

FIRST = ["Ada", "Alan", "Grace", "Linus", "Barbara", "Edsger", "Margaret", "Donald", "Frances",
         "Ken", "Radia", "John", "Sophie", "Tim", "Hedy", "Dennis", "Karen", "Niklaus", "Anita", "Guido"]
LAST = ["Rossi", "Bianchi", "Smith", "Garcia", "Muller", "Martin", "Costa", "Novak", "Silva", "Kowalski"]
PLACES = [("Milan", "IT"), ("Rome", "IT"), ("Turin", "IT"), ("London", "GB"), ("Madrid", "ES"),
          ("Berlin", "DE"), ("Paris", "FR"), ("Lisbon", "PT"), ("Vienna", "AT"), ("Barcelona", "ES")]
LANGS = ["en"] * 5 + ["it"] * 3 + ["es"] * 2 + ["de"] + ["fr"]
TAGS = ["bigdata", "hadoop", "spark", "kafka", "mongodb", "cassandra", "nosql", "cloud", "ai",
        "datascience", "streaming", "python", "java", "scala", "sql", "devops", "kubernetes",
        "analytics", "iot", "ml", "database", "etl", "lakehouse", "gdpr", "opensource"]
WORDS = ("data pipeline cluster query index shard replica stream batch latency throughput schema "
         "partition node broker topic consumer join window model table lake warehouse").split()
DAYS = [f"2024-03-0{d}" for d in range(1, 8)]

users = []
for i in range(1, 201):
    city, country = rng.choice(PLACES)
    users.append({
        "_id": f"u{i:03d}",
        "name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
        "followers": rng.randint(0, 50000),
        "country": country,
        "joined": {"$date": f"20{rng.randint(10, 23):02d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T00:00:00Z"},
    })

N = 2400
likes = rng.sample(range(0, 20000), N)
tweets = []
for k in range(N):
    tid = 1000001 + k
    day = rng.choice(DAYS)
    # each day favours a few tags, so the top hashtags differ by day
    favoured = TAGS[DAYS.index(day) * 3: DAYS.index(day) * 3 + 4]
    pool = favoured * 4 + TAGS
    tags = sorted(set(rng.choice(pool) for _ in range(rng.randint(0, 3))))
    t = {
        "_id": tid,
        "user": f"u{int(rng.triangular(1, 200, 1)):03d}",
        "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))) + "".join(f" #{x}" for x in tags),
        "hashtags": tags,
        "lang": rng.choice(LANGS),
        "day": day,
        "created_at": {"$date": f"{day}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"},
        "likes": likes[k],
        "retweets": rng.randint(0, 500),
    }
    if rng.random() < 0.8:
        city, country = rng.choice(PLACES)
        t["place"] = {"city": city, "country": country}
    tweets.append(t)

# The update step's tweet: on the first day, few likes, so its +1 moves no ranking.
t = tweets[41]
assert t["_id"] == 1000042
t["day"] = "2024-03-01"
t["created_at"] = {"$date": "2024-03-01T09:30:00Z"}
assert 17 not in likes
t["likes"] = 17
t["place"] = {"city": "Milan", "country": "IT"}


def dump(name, docs):
    with open(os.path.join(HERE, name), "w") as f:
        f.write("[\n")
        f.write(",\n".join(json.dumps(d, ensure_ascii=False, sort_keys=False) for d in docs))
        f.write("\n]\n")


dump("users.json", users)
dump("tweets.json", tweets)
print(f"wrote {len(tweets)} tweets and {len(users)} users")
