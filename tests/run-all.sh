#!/usr/bin/env bash
# The whole datalab test suite, from a fresh clone:
#   1. build once;
#   2. fetch what the native services need (Kafka, Cassandra and Hadoop jars
#      from Maven Central, the MongoDB server) into ~/.cache/datalab
#      (`services install` with no kind names every kind, hadoop included);
#   2b. the Python venv the labs' Python-route and Spark tests use (tests/python-venv.sh:
#      ~/.cache/datalab/venv, pip only when a requirement is missing);
#   2c. Debian's chromium and chromium-driver for the projector page's
#      browser test (tests/browser-setup.sh: apt-get only when missing);
#   2c'. the release set-up: cargo-dist's plan, its shell installer, and that
#      installer run against a mirror on 127.0.0.1 (tests/release-installer.sh);
#   2d. the Spark Kafka connector's jars (`datalab spark install`), before
#      the native tests;
#   3. every test against the NATIVE provider (real Kafka, Cassandra and the
#      MongoDB server as local processes), each service started once per run;
#   4. the DOCKER provider: install and start dockerd, build the images from
#      containers/ (no registry needed), run the docker-provider tests
#      through testcontainers;
#   5. stop everything it started, whatever happened.
# Environment: DATALAB_CACHE (default ~/.cache/datalab), DATALAB_SUITE
# (all | native | docker; default all).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

export DATALAB_CACHE="${DATALAB_CACHE:-$HOME/.cache/datalab}"
mkdir -p "$DATALAB_CACHE"
# Build artefacts live outside the clone so a new clone of the same machine
# builds incrementally (set CARGO_TARGET_DIR yourself to override).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$DATALAB_CACHE/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
suite="${DATALAB_SUITE:-all}"
bin="$CARGO_TARGET_DIR/debug/datalab"

step() { printf '\n=== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }

native_home=$(mktemp -d /tmp/datalab-native.XXXXXX)
docker_home=$(mktemp -d /tmp/datalab-docker.XXXXXX)
cleanup() {
  status=$?
  step "stopping the services this run started"
  DATALAB_HOME="$native_home" "$bin" services down >/dev/null 2>&1 || true
  if [ -f containers/docker/teardown.sh ] && [ "$suite" != native ]; then
    DATALAB_HOME="$docker_home" "$bin" services down >/dev/null 2>&1 || true
    bash containers/docker/teardown.sh || true
  fi
  rm -rf "$native_home" "$docker_home"
  exit $status
}
trap cleanup EXIT INT TERM

step "build"
cargo build --all-targets --locked

step "python venv for the labs' Python route (confluent-kafka, pyspark)"
bash tests/python-venv.sh

step "chromium + chromedriver for the projector page's browser test"
bash tests/browser-setup.sh

if [ "$suite" != docker ]; then
  step "release: dist plan, the shell installer, an install from a mirror"
  bash tests/release-installer.sh "$bin"
  step "native services: fetch into $DATALAB_CACHE"
  DATALAB_HOME="$native_home" "$bin" services install
  step "spark: PySpark in the venv (done above) and the Kafka connector's jars"
  DATALAB_HOME="$native_home" "$bin" spark install
  step "tests against the native provider"
  DATALAB_PROVIDER=native DATALAB_HOME="$native_home" DATALAB_TEST_HOME="$native_home" \
    cargo test --locked --no-fail-fast -- --test-threads=2
  DATALAB_HOME="$native_home" "$bin" services down
fi

if [ "$suite" != native ] && [ -f containers/docker/setup.sh ]; then
  step "docker: start dockerd and build the images from containers/"
  bash containers/docker/setup.sh
  DATALAB_HOME="$docker_home" "$bin" services build-images
  step "tests against the docker provider (testcontainers)"
  DATALAB_PROVIDER=docker DATALAB_HOME="$docker_home" DATALAB_TEST_HOME="$docker_home" \
    cargo test --locked --no-fail-fast --test services_docker --test cassandra_docker --test hadoop_docker --test services_native --test mongodb_compat -- --test-threads=1
fi
step "done"
