#!/usr/bin/env bash
# Undo setup.sh's running parts: remove every container labelled datalab=1
# (and their datalab networks), then stop the dockerd that setup.sh started
# (pid file /run/datalab/dockerd.pid). A daemon setup.sh did not start is left
# running. Images and the cached rootfs stay (they make the next run fast).
set -uo pipefail
RUN_DIR="${DATALAB_DOCKERD_RUN:-/run/datalab}"
PID_FILE="$RUN_DIR/dockerd.pid"
say() { printf 'teardown: %s\n' "$*" >&2; }

if timeout 5 docker info >/dev/null 2>&1; then
    ids=$(docker ps -aq --filter label=datalab=1)
    if [ -n "$ids" ]; then
        say "removing $(echo "$ids" | wc -l) datalab container(s)"
        # shellcheck disable=SC2086
        docker rm -f -v $ids >/dev/null
    fi
    nets=$(docker network ls -q --filter label=datalab=1)
    # shellcheck disable=SC2086
    [ -n "$nets" ] && docker network rm $nets >/dev/null
fi

if [ -f "$PID_FILE" ]; then
    pid=$(cat "$PID_FILE")
    if kill -0 "$pid" 2>/dev/null; then
        say "stopping dockerd (pid $pid)"
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -0 "$pid" 2>/dev/null && { say "dockerd did not stop in 20 s; killing it"; kill -KILL "$pid"; }
    fi
    rm -f "$PID_FILE"
fi
exit 0
