#!/usr/bin/env bash
# Installs everything the tests need and runs every test (one debug build, reused by all tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "==> building (debug, with tests)"
swift build --build-tests
# Every process of the run reports closes of descriptors that were not open (Tests/Tools/fd-guard.c).
guard_dir=.build/fd-guard
mkdir -p "$guard_dir"
gcc -shared -fPIC -O1 -o "$guard_dir/fd-guard.so" Tests/Tools/fd-guard.c -ldl
# Physical paths: the guard compares them with /proc/self/exe, which has symlinks resolved.
root="$(pwd -P)"
guard_log="$root/$guard_dir/report.log"
rm -f "$guard_log"

echo "==> swift test"
# A hung test must fail the run, not eat CI's time limit. (HC_, not HICLAW_: the tests clear
# HICLAW_* for the hosts they start, and those must report too.)
status=0
HC_FD_GUARD_LOG="$guard_log" HC_FD_GUARD_ONLY="$root/.build/" LD_PRELOAD="$root/$guard_dir/fd-guard.so" \
  timeout --signal=INT --kill-after=30s 20m swift test --skip-build || status=$?

if [ -s "$guard_log" ]; then
  echo "==> FAILED: descriptors were closed (or sockets shut down) after they were closed: a second close can hit another thread's file"
  # Symbolize "binary(+0xoffset)" frames.
  while IFS= read -r line; do
    if [[ "$line" =~ ^([^\(]+)\(\+(0x[0-9a-f]+)\) ]]; then
      echo "    $(addr2line -f -C -e "${BASH_REMATCH[1]}" "${BASH_REMATCH[2]}" | paste -sd ' ')"
    else
      echo "$line"
    fi
  done < "$guard_log"
  exit 1
fi
exit "$status"
