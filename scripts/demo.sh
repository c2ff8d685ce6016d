#!/usr/bin/env bash
# The main job, from a fresh clone: install the system packages, build the release binary, and segment
# the sample photo with one click on the official SAM 2.1 tiny checkpoint, fetched by name: downloaded,
# verified and cached (~/.cache/sam2, or $SAM2_CACHE) on the first run, used offline after that.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product sam2
bin="$(swift build -c release --show-bin-path)/sam2"

# Without a network this stops with one line saying which file to fetch from where and where to put it.
"$bin" info --model tiny
"$bin" segment assets/astronaut.jpg --model tiny --point 260,160 --output out/astronaut --overlay --cutout --sort
echo "masks, cut-outs and an overlay are in out/astronaut/" >&2
