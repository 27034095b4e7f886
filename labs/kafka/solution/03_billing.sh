#!/bin/sh
# Step 3: consume orders in group billing, total per customer, commit.
set -e
mkdir -p out
datalab kafka groups delete billing --if-exists
datalab kafka consume orders --group billing --from-beginning --tsv > out/billing.tsv
awk -F '\t' '{ match($2, /"amount": *[0-9.]+/); a = substr($2, RSTART, RLENGTH)
               sub(/^"amount": */, "", a); t[$1] += a }
     END { printf "{"; n = 0
           for (c in t) { printf "%s\"%s\": %.2f", (n++ ? ", " : ""), c, t[c] }
           print "}" }' out/billing.tsv > totals.json
cat totals.json
