#!/usr/bin/env bash
# Installs the Debian packages swift-sam2 builds against and, with --test, those of the browser test
# (Chromium, its WebDriver, Python's venv), with apt (needs root or sudo; a no-op when present).
set -euo pipefail
packages=(libdnnl-dev libjpeg62-turbo-dev libpng-dev zlib1g-dev libavformat-dev libavcodec-dev libswscale-dev libavutil-dev
          libavdevice-dev libmicrohttpd-dev libssl-dev)
[ "${1:-}" = "--test" ] && packages+=(chromium chromium-driver python3-venv)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing ${missing[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
