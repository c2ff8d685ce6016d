#!/usr/bin/env bash
# The main job, from a fresh clone: install the system packages, build the release binary, get the
# official SAM 2.1 tiny checkpoint if it is missing, and segment the sample photo with one click.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
swift build -c release --product sam2
bin="$(swift build -c release --show-bin-path)/sam2"

checkpoint=checkpoints/sam2.1_hiera_tiny.pt
url=https://dl.fbaipublicfiles.com/segment_anything_2/092824/sam2.1_hiera_tiny.pt
if [ ! -s "$checkpoint" ]; then
  mkdir -p checkpoints
  echo "downloading $url" >&2
  if ! curl -fL --retry 2 -o "$checkpoint.part" "$url"; then
    rm -f "$checkpoint.part"
    cat >&2 <<MSG
Could not download the official checkpoint (no network here?).
On a machine with internet access, download
    $url
and copy it to $(pwd)/$checkpoint, then run this script again.
Until then, \`$bin info CHECKPOINT\` and \`$bin segment\` work with any SAM 2 / 2.1 checkpoint you have.
MSG
    exit 1
  fi
  mv "$checkpoint.part" "$checkpoint"
fi

"$bin" info "$checkpoint"
"$bin" segment assets/astronaut.jpg --checkpoint "$checkpoint" --point 260,160 --output out/astronaut --overlay --cutout --sort
echo "masks, cut-outs and an overlay are in out/astronaut/" >&2
