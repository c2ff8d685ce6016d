#!/usr/bin/env bash
# Installs the system packages and runs the whole test suite (no Python, no network needed).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build --build-tests
swift test --skip-build
