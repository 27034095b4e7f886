#!/usr/bin/env bash
# What the projector page's browser test (crates/room/tests/browser.rs)
# drives: Debian's chromium and chromium-driver. Idempotent: when
# /usr/bin/chromium and /usr/bin/chromedriver are both there, apt-get is not
# run at all (no network). `apt-get update` only when the install fails with
# the package lists this machine already has.
# tests/run-all.sh calls it before `cargo test`; the browser test fails
# (with a message naming this script) when either program is missing.
set -euo pipefail

if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "browser: chromium and chromium-driver are missing and this is not root (no sudo): run apt-get install -y chromium chromium-driver as root" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  install() {
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y --no-install-recommends chromium chromium-driver
  }
  echo "browser: installing chromium and chromium-driver with apt-get"
  if ! install; then
    echo "browser: the install failed; apt-get update, then again"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
    install
  fi
fi

echo "browser: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium: no version')"
echo "browser: $(/usr/bin/chromedriver --version)"
