#!/usr/bin/env bash
# Installs everything the tests need and runs every test (one debug build, reused by all tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh

echo "==> building (debug, with tests)"
swift build --build-tests
echo "==> swift test"
swift test --skip-build
