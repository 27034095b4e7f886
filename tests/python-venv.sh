#!/usr/bin/env bash
# The Python route of the labs: a virtualenv with the packages the labs'
# requirements.txt files name, kept OUTSIDE the clone (default
# ~/.cache/datalab/venv, or $DATALAB_VENV). Idempotent: when every
# requirement is already satisfied, pip is not run at all (no network).
# tests/run-all.sh calls it before `cargo test`; the Python-route tests fail
# (with a message naming this script) when the venv is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${DATALAB_CACHE:-$HOME/.cache/datalab}"
venv="${DATALAB_VENV:-$cache/venv}"
reqs=(labs/kafka/starter/requirements.txt labs/spark/starter/requirements.txt)
# PySpark's source archive is 450 MB and pip builds a wheel from it: keep
# pip's cache with datalab's, out of ~/.cache/pip.
export PIP_CACHE_DIR="${PIP_CACHE_DIR:-$cache/pip}"

if [ ! -x "$venv/bin/python" ]; then
  echo "python venv: creating $venv"
  if ! python3 -m venv "$venv"; then
    rm -rf "$venv"
    echo "python venv: cannot create $venv: install Python 3 with venv support (Debian: apt-get install -y python3-venv)" >&2
    exit 1
  fi
fi

# Satisfied = every `name>=version` (or bare name) line is installed at a
# high enough version, every `name==version` line at that very version.
# Anything else in a file: let pip decide.
satisfied() {
  "$venv/bin/python" - "$@" <<'PY'
import re, sys
from importlib.metadata import version, PackageNotFoundError
def vt(v):
    return tuple(int(x) for x in re.findall(r"\d+", v)[:3])
for path in sys.argv[1:]:
    for line in open(path):
        line = line.split("#")[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(?:(>=|==)\s*([0-9.]+))?", line)
        if not m:
            sys.exit(1)
        try:
            have = version(m.group(1))
        except PackageNotFoundError:
            sys.exit(1)
        if m.group(2) == ">=" and vt(have) < vt(m.group(3)):
            sys.exit(1)
        if m.group(2) == "==" and vt(have) != vt(m.group(3)):
            sys.exit(1)
PY
}

if satisfied "${reqs[@]}"; then
  echo "python venv: $venv already has $(cat "${reqs[@]}" | tr '\n' ' ')"
else
  echo "python venv: pip install ${reqs[*]} into $venv"
  args=()
  for r in "${reqs[@]}"; do args+=(-r "$r"); done
  "$venv/bin/python" -m pip install --disable-pip-version-check --quiet "${args[@]}"
fi
"$venv/bin/python" -c 'import confluent_kafka; print("python venv: confluent-kafka", confluent_kafka.__version__)'
"$venv/bin/python" -c 'import pyspark; print("python venv: pyspark", pyspark.__version__)'
