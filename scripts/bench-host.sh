#!/usr/bin/env bash
# Builds and runs the host benchmarks of issue 3 (Benchmarks/HostBenchmark), in release mode.
#
#   scripts/bench-host.sh [benchmark options…]     e.g. scripts/bench-host.sh --quick
#                                                       scripts/bench-host.sh --sections store,apply
#
# Steps (idempotent; SwiftPM rebuilds only what changed):
#   1. swift build -c release, in the scratch path .build-bench (kept apart from .build so that a
#      benchmark build never blocks or invalidates anyone else's), of the products the benchmark
#      needs: hiclaw-bench-host, hc_memory (the in-memory backend driver, loaded in process by the
#      apply/get/watch sections and by hiclaw-host --backend memory), hiclaw-host (spawned by the
#      rss section) and hiclaw (the CLI whose apply BM1 times). One `swift build` per product:
#      given several --product flags, SwiftPM builds only the last.
#   2. The benchmark, which prints tables and JSON lines; both are also saved under
#      .build-bench/bench-results/ (bench-host-<UTC time>.txt and .jsonl).
#
# Environment: BENCH_SCRATCH (scratch path, default .build-bench), BENCH_NO_BUILD=1 (skip step 1),
# BENCH_WINDOWS=1 (note each BM1 phase's start and end in CLOCK_MONOTONIC seconds, to cut a
# `perf record -k mono -g` profile of the run with `perf report --time START,END`, and print each
# apply's timeline: Workers stored / Running every 50 ms, and the time from the last stored to
# all Running).
# Experiments only (a run that sets them is not a result; RESULTS.md says when one was used):
# BENCH_CONCURRENCY (reconciles per kind), BENCH_CHECKPOINT_PAGES (the store's checkpoint size),
# BENCH_CLI_ARGS (extra `hiclaw apply` flags, e.g. "--concurrency 16").
# Results and how to read them: Benchmarks/RESULTS.md ("Host benchmarks").
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scratch="${BENCH_SCRATCH:-$root/.build-bench}"

echo "== machine"
echo "nproc: $(nproc)"
echo "cpu:   $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "swift: $(swift --version 2>&1 | head -n1)"
echo "load:  $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date:  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "git:   $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (modified)')"

if [[ "${BENCH_NO_BUILD:-0}" != 1 ]]; then
  echo "== build (release, scratch path $scratch)"
  for product in hiclaw-bench-host hc_memory hiclaw-host hiclaw; do
    swift build -c release --scratch-path "$scratch" --product "$product"
  done
fi
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"
for file in hiclaw-bench-host libhc_memory.so hiclaw-host hiclaw; do
  [[ -e "$bin/$file" ]] || { echo "bench-host.sh: $bin/$file is missing; run without BENCH_NO_BUILD" >&2; exit 1; }
done

results="$scratch/bench-results"
mkdir -p "$results"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
echo "== benchmark"
"$bin/hiclaw-bench-host" \
  --memory-driver "$bin/libhc_memory.so" \
  --host-binary "$bin/hiclaw-host" \
  --cli-binary "$bin/hiclaw" \
  --json-out "$results/bench-host-$stamp.jsonl" \
  "$@" 2>&1 | tee "$results/bench-host-$stamp.txt"
echo "== saved $results/bench-host-$stamp.txt and $results/bench-host-$stamp.jsonl"
