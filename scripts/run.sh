#!/usr/bin/env bash
# The main job: build everything, install and verify the bundled drivers, start hiclaw-host with
# the embedded defaults (SQLite store in the data dir, 127.0.0.1:8090), apply examples/resources
# and show the objects reconcile. The host keeps running in the foreground until Ctrl-C
# (HICLAW_RUN_DETACH=1 leaves it running in the background instead). Idempotent.
#   HICLAW_DATA_DIR   where hiclaw keeps its state (default: .build/hiclaw-data in this checkout)
#   HICLAW_LISTEN     where the host listens (default 127.0.0.1:8090)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "==> building (debug)"
swift build
bin="$(swift build --show-bin-path)"

export HICLAW_DATA_DIR="${HICLAW_DATA_DIR:-$PWD/.build/hiclaw-data}"
listen="${HICLAW_LISTEN:-127.0.0.1:8090}"
drivers_dir="$HICLAW_DATA_DIR/drivers"
mkdir -p "$drivers_dir"

echo "==> installing the bundled drivers into $drivers_dir"
for name in docker kubernetes cloud openclaw copaw hermes zeroclaw nanoclaw; do
  # First-party drivers run in process; third-party ones default to the runner.
  "$bin/hiclaw" driver install "$bin/libhc_$name.so" --isolation in-process --drivers-dir "$drivers_dir"
done
"$bin/hiclaw" driver list --drivers-dir "$drivers_dir"

echo "==> hiclaw driver verify (every installed driver, in process and through the runner)"
for manifest in "$drivers_dir"/*.json; do
  "$bin/hiclaw" driver verify "$manifest"
done

# The worker backend: the Docker driver does not implement worker-backend/1 yet, so the host runs
# agents on the in-memory backend (hc_memory, loaded from the build directory). See
# docs/operations.md.
log="$HICLAW_DATA_DIR/hiclaw-host.log"
echo "==> starting hiclaw-host on $listen (data dir $HICLAW_DATA_DIR, log $log)"
"$bin/hiclaw-host" --listen "$listen" --data-dir "$HICLAW_DATA_DIR" --backend memory >"$log" 2>&1 &
host_pid=$!
stop_host() { kill "$host_pid" 2>/dev/null && wait "$host_pid" 2>/dev/null || true; }
trap stop_host INT TERM
for _ in $(seq 1 100); do
  if grep -q "listening on" "$log" 2>/dev/null; then break; fi
  if ! kill -0 "$host_pid" 2>/dev/null; then echo "hiclaw-host exited:"; cat "$log"; exit 1; fi
  sleep 0.1
done
url="$(grep -o 'http://[^ ]*' "$log" | head -n1)"
export HICLAW_CONTROLLER_URL="$url"
export HICLAW_TOKEN_FILE="$HICLAW_DATA_DIR/admin.token"

echo "==> hiclaw apply -f examples/resources"
"$bin/hiclaw" apply -f examples/resources

echo "==> waiting for the objects to reconcile"
for _ in $(seq 1 100); do
  pending=0
  for kind in workers teams managers; do
    if "$bin/hiclaw" get "$kind" 2>/dev/null | grep -qE "Pending|Degraded"; then pending=1; fi
  done
  [[ $pending == 0 ]] && break
  sleep 0.2
done
for kind in humans teams workers managers; do
  echo "--- hiclaw get $kind"
  "$bin/hiclaw" get "$kind" -o wide
done
echo "--- hiclaw describe team research"
"$bin/hiclaw" describe team research

if [[ "${HICLAW_RUN_DETACH:-0}" == 1 ]]; then
  echo "==> hiclaw-host keeps running (pid $host_pid, $url). Stop it with: kill $host_pid"
  exit 0
fi
echo "==> hiclaw-host is running at $url (pid $host_pid). Try, in another shell:"
echo "      export HICLAW_CONTROLLER_URL=$url HICLAW_TOKEN_FILE=$HICLAW_TOKEN_FILE"
echo "      $bin/hiclaw get workers -w"
echo "    Ctrl-C stops it."
wait "$host_pid"
