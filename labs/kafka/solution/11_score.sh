#!/bin/sh
# Step 11: the scorer the check starts, kills mid-stream and starts again.
# The console cannot commit offsets inside a transaction: this step is
# Python (python/11_score.py, confluent-kafka).
exec python3 python/11_score.py
