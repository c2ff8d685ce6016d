#!/usr/bin/env bash
# Installs the system packages and runs the whole test suite: the style checks (scripts/lint.sh),
# the Swift tests, the Hugging Face cache against huggingface_hub (from PyPI in a venv under .build/),
# a brief run of every fuzz target, then the annotation page's end-to-end test in headless Chromium
# (selenium from PyPI in a venv too).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
bash scripts/lint.sh
swift build --build-tests
swift test --skip-build
# The Hugging Face cache sam2 writes and reads, checked against huggingface_hub itself (from PyPI).
hub=.build/hub-venv
if [ ! -x "$hub/bin/python" ] || ! "$hub/bin/python" -c "import huggingface_hub" 2>/dev/null; then
  python3 -m venv "$hub"
  "$hub/bin/pip" install --quiet --disable-pip-version-check "huggingface_hub>=0.23"
fi
"$hub/bin/python" tools/models/check_hf_cache.py --binary "$(swift build --show-bin-path)/sam2"
# Every fuzz target briefly, from the fixtures' seeds (the saved findings of longer runs were just
# replayed by swift test); a crash or broken promise fails the run and is saved for the next one.
bash scripts/fuzz.sh --seconds 15 --parallel 2
venv=.build/browser-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import selenium" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check selenium
fi
"$venv/bin/python" tools/browser/test_page.py --binary "$(swift build --show-bin-path)/sam2"
