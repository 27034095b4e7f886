#!/usr/bin/env bash
# Make a Docker engine answer on this machine, with no image registry:
#   1. install Debian's docker.io and debootstrap (apt, once);
#   2. start dockerd in the background unless a daemon already answers;
#   3. build the base image datalab/debian:bookworm with debootstrap +
#      `docker import` (the rootfs tarball is cached).
# Idempotent: every step is skipped when its result is already there.
# Needs root. teardown.sh undoes step 2 (and removes datalab containers).
#
# Env: DATALAB_CACHE (default ~/.cache/datalab), DATALAB_DOCKERD_LOG,
#      DATALAB_DEBIAN_MIRROR (default: the mirror apt is configured with).
set -euo pipefail

CACHE="${DATALAB_CACHE:-$HOME/.cache/datalab}"
DOCKER_CACHE="$CACHE/docker"
RUN_DIR="${DATALAB_DOCKERD_RUN:-/run/datalab}"
PID_FILE="$RUN_DIR/dockerd.pid"
LOG_FILE="${DATALAB_DOCKERD_LOG:-$RUN_DIR/dockerd.log}"
BASE_IMAGE="datalab/debian:bookworm"
SUITE=bookworm

say() { printf 'setup: %s\n' "$*" >&2; }
die() { printf 'setup: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts dockerd)"
mkdir -p "$DOCKER_CACHE" "$RUN_DIR"

# Debian's docker client lives in /usr/bin; a newer client elsewhere on PATH
# negotiates the API version down, so either works.
daemon_answers() { timeout 5 docker info >/dev/null 2>&1; }

# --- 1. packages -------------------------------------------------------------
need=()
command -v dockerd >/dev/null 2>&1 || need+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need+=(debootstrap)
if [ "${#need[@]}" -gt 0 ]; then
    say "installing ${need[*]} from Debian"
    # apt-get update once: only when the package lists are missing or stale.
    if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n1)" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${need[@]}" iptables ca-certificates >/dev/null
fi

# --- 2. dockerd --------------------------------------------------------------
if daemon_answers; then
    say "a Docker daemon already answers"
else
    if [ -f "$PID_FILE" ] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; then
        say "dockerd (pid $(cat "$PID_FILE")) is running but not answering yet"
    else
        say "starting dockerd (log: $LOG_FILE)"
        # setsid: dockerd leaves this script's process group, so it outlives
        # the shell that ran setup.sh.
        setsid nohup dockerd --pidfile "$RUN_DIR/dockerd.self.pid" \
            >>"$LOG_FILE" 2>&1 </dev/null &
        echo $! >"$PID_FILE"
    fi
    for _ in $(seq 1 150); do
        daemon_answers && break
        kill -0 "$(cat "$PID_FILE")" 2>/dev/null ||
            die "dockerd exited; last lines of $LOG_FILE:
$(tail -n 20 "$LOG_FILE")"
        sleep 0.2
    done
    daemon_answers || die "dockerd did not answer within 30 s; see $LOG_FILE"
    say "dockerd answers ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
fi

# --- 3. base image -----------------------------------------------------------
debian_mirror() {
    if [ -n "${DATALAB_DEBIAN_MIRROR:-}" ]; then echo "$DATALAB_DEBIAN_MIRROR"; return; fi
    local f uri
    # deb822 sources first (URIs: …), then one-line sources (deb URI suite …).
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        uri=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list; do
        [ -f "$f" ] || continue
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } } }' "$f")
        [ -n "$uri" ] && { echo "$uri"; return; }
    done
    echo "http://deb.debian.org/debian"
}

if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE exists"
else
    tarball="$DOCKER_CACHE/debian-$SUITE-minbase.tar"
    if [ ! -s "$tarball" ]; then
        mirror=$(debian_mirror)
        rootfs=$(mktemp -d "$DOCKER_CACHE/rootfs.XXXXXX")
        trap 'rm -rf "$rootfs"' EXIT
        say "debootstrap --variant=minbase $SUITE from $mirror (~30 s)"
        debootstrap --variant=minbase "$SUITE" "$rootfs" "$mirror" >"$DOCKER_CACHE/debootstrap.log" 2>&1 ||
            die "debootstrap failed; see $DOCKER_CACHE/debootstrap.log"
        # Containers use the same mirror as the host for apt inside builds.
        printf 'deb %s %s main\ndeb %s %s-updates main\n' "$mirror" "$SUITE" "$mirror" "$SUITE" \
            >"$rootfs/etc/apt/sources.list"
        rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
        tar -C "$rootfs" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
        rm -rf "$rootfs"
        trap - EXIT
    fi
    say "docker import $tarball -> $BASE_IMAGE"
    docker import "$tarball" "$BASE_IMAGE" >/dev/null
fi
say "ready: $(docker version --format 'server {{.Server.Version}}, API {{.Server.APIVersion}}' 2>/dev/null)"
