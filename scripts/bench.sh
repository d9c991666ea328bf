#!/usr/bin/env bash
# Builds and runs the driver ABI benchmark (Benchmarks/DriverBenchmark), in release mode.
#
#   scripts/bench.sh [benchmark options…]     e.g. scripts/bench.sh --quick
#
# Steps (idempotent; SwiftPM rebuilds only what changed):
#   1. swift build -c release, in the scratch path .build-bench (kept apart from .build so that a
#      benchmark build never blocks or invalidates anyone else's), of the three products the
#      benchmark needs: hiclaw-driver-runner, hc_docker (the Swift driver) and hiclaw-bench-driver.
#      One `swift build` per product: given several --product flags, SwiftPM builds only the last.
#   2. The C bench driver, Benchmarks/Drivers/bench.c, into a temporary directory.
#   3. The benchmark, which prints tables and JSON lines; both are also saved under
#      .build-bench/bench-results/ (bench-<UTC time>.txt and .jsonl).
#
# Environment: BENCH_SCRATCH (scratch path, default .build-bench), BENCH_NO_BUILD=1 (skip step 1),
# CC (C compiler, default cc).
# Results and how to read them: Benchmarks/RESULTS.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scratch="${BENCH_SCRATCH:-$root/.build-bench}"
cc="${CC:-cc}"

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu:   $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "swift: $(swift --version 2>&1 | head -n1)"
echo "date:  $(date -u +%Y-%m-%dT%H:%M:%SZ)"

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
  echo "== build (release, scratch path $scratch)"
  for product in hiclaw-driver-runner hc_docker hiclaw-bench-driver; do
    swift build -c release --scratch-path "$scratch" --product "$product"
  done
fi
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
for file in hiclaw-bench-driver hiclaw-driver-runner libhc_docker.so; do
  [[ -e "$bin/$file" ]] || { echo "bench.sh: $bin/$file is missing; run without BENCH_NO_BUILD" >&2; exit 1; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/hiclaw-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
echo "== C bench driver"
"$cc" -O2 -fPIC -shared -fvisibility=hidden -I Sources/DriverABI/include \
  -o "$work/libhc_bench.so" Benchmarks/Drivers/bench.c
echo "$work/libhc_bench.so"

results="$scratch/bench-results"
mkdir -p "$results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
echo "== benchmark"
"$bin/hiclaw-bench-driver" \
  --bench-driver "$work/libhc_bench.so" \
  --swift-driver "$bin/libhc_docker.so" \
  --runner "$bin/hiclaw-driver-runner" \
  --json-out "$results/bench-$stamp.jsonl" \
  "$@" | tee "$results/bench-$stamp.txt"
echo "== saved $results/bench-$stamp.txt and $results/bench-$stamp.jsonl"
