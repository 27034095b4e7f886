#!/usr/bin/env bash
# The release set-up (cargo-dist, dist-workspace.toml) still holds, and its
# shell installer really installs a working `datalab`:
#   1. cargo-dist at the version the config pins (installed once into
#      ~/.cargo/bin with `cargo install --locked` when missing);
#   2. `dist plan` (the config parses, .github/workflows/release.yml is not
#      stale) and `dist build --artifacts=global` (writes the installer);
#   3. the installer run against a mirror on 127.0.0.1 (DATALAB_DOWNLOAD_URL,
#      as a room's own server would be used) serving an archive laid out as
#      dist's own (`datalab-<target>/datalab` in `datalab-<target>.tar.xz`),
#      made from the binary this run built: the dist profile's thin-LTO build
#      takes longer than the whole suite on two cores, and the installer only
#      reads the archive's name and layout;
#   4. the installed binary runs (`--version`, `outline`).
# Usage: tests/release-installer.sh BINARY
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "$1")
want=$(sed -n 's/^cargo-dist-version = "\(.*\)"/\1/p' dist-workspace.toml)
if [ "$(dist --version 2>/dev/null)" != "cargo-dist $want" ]; then
  cargo install --locked cargo-dist --version "$want"
fi
work=$(mktemp -d /tmp/datalab-release.XXXXXX)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT

dist plan >/dev/null
dist build --artifacts=global --tag "v$(cargo metadata --no-deps --format-version 1 --locked |
  python3 -c 'import json,sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"]=="datalab"))')" \
  --output-format=json >"$work/build.json"
installer=$(python3 -c 'import json,sys
m = json.load(open(sys.argv[1]))
print(next(a["path"] for a in m["artifacts"].values() if a.get("kind") == "installer" and a["name"].endswith(".sh")))' "$work/build.json")

target=$(rustc -vV | sed -n 's/^host: //p')
mkdir -p "$work/mirror" "$work/pack/datalab-$target"
cp "$bin" "$work/pack/datalab-$target/datalab"
XZ_OPT=-0 tar -C "$work/pack" -cJf "$work/mirror/datalab-$target.tar.xz" "datalab-$target"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 --directory "$work/mirror" "$port" >"$work/http.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$port/" 2>/dev/null && break
  sleep 0.2
done

HOME="$work/home" DATALAB_DOWNLOAD_URL="http://127.0.0.1:$port" \
  DATALAB_INSTALL_DIR="$work/install" DATALAB_NO_MODIFY_PATH=1 sh "$installer" --quiet
installed=$(find "$work/install" -type f -name datalab | head -n1)
[ -x "$installed" ] || { echo "the installer put no datalab under $work/install" >&2; exit 1; }
"$installed" --version
"$installed" outline >/dev/null
echo "release installer: ok ($(basename "$installer") installed $installed from a mirror)"
