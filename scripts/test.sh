#!/usr/bin/env bash
# Installs everything the tests need and runs every test (one debug build, reused by all tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "==> building (debug, with tests)"
swift build --build-tests
echo "==> swift test"
# A hung test must fail the run, not eat CI's time limit.
timeout --signal=INT --kill-after=30s 20m swift test --skip-build
