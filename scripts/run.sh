#!/usr/bin/env bash
# The main job: build everything, install the bundled drivers into the drivers directory, and show
# and verify them. Idempotent.
#   HICLAW_DATA_DIR   where hiclaw keeps its state (default: .build/hiclaw-data in this checkout)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "==> building (debug)"
swift build
bin="$(swift build --show-bin-path)"

export HICLAW_DATA_DIR="${HICLAW_DATA_DIR:-$PWD/.build/hiclaw-data}"
drivers_dir="$HICLAW_DATA_DIR/drivers"
mkdir -p "$drivers_dir"

echo "==> installing the bundled drivers into $drivers_dir"
for name in docker kubernetes cloud openclaw copaw hermes zeroclaw nanoclaw; do
  # First-party drivers run in process; third-party ones default to the runner.
  "$bin/hiclaw" driver install "$bin/libhc_$name.so" --isolation in-process --drivers-dir "$drivers_dir"
done

echo "==> hiclaw driver list"
"$bin/hiclaw" driver list --drivers-dir "$drivers_dir"

echo "==> hiclaw driver verify (every installed driver, in process and through the runner)"
status=0
for manifest in "$drivers_dir"/*.json; do
  "$bin/hiclaw" driver verify "$manifest" || status=1
done
exit $status
