#!/usr/bin/env python3
"""Generate the Cassandra lab's readings.csv: five sensors, three days, one
reading every 15 minutes (1,440 rows). Deterministic (fixed seed).

    python3 generate.py
"""
import math
import os
import random

rng = random.Random(42)
HERE = os.path.dirname(os.path.abspath(__file__))
rows = ["sensor_id,day,ts,temperature,humidity"]
for s in range(1, 6):
    base = 18 + 2.5 * s
    for d in range(1, 4):
        day = f"2024-03-0{d}"
        for q in range(96):
            h, m = divmod(q * 15, 60)
            daily = 6 * math.sin((q / 96 - 0.3) * 2 * math.pi)
            temp = round(base + daily + rng.uniform(-1.5, 1.5), 1)
            hum = round(55 - daily * 2 + rng.uniform(-5, 5), 1)
            rows.append(f"s-0{s},{day},{day}T{h:02d}:{m:02d}:00Z,{temp},{hum}")
with open(os.path.join(HERE, "readings.csv"), "w") as f:
    f.write("\n".join(rows) + "\n")
print(f"wrote {len(rows) - 1} readings")
