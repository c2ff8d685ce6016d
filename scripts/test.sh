#!/usr/bin/env bash
# Installs the system packages and runs the whole test suite: the style checks (scripts/lint.sh),
# the Swift tests, then the annotation page's end-to-end test in headless Chromium (selenium from
# PyPI in a venv under .build/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/lint.sh
swift build --build-tests
swift test --skip-build
venv=.build/browser-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium
fi
"$venv/bin/python" tools/browser/test_page.py --binary "$(swift build --show-bin-path)/sam2"
