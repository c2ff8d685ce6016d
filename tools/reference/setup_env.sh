#!/usr/bin/env bash
# Builds the reference environment: the official sam2==1.1.0 package on PyTorch (CPU), in
# tools/reference/.venv. Idempotent: a finished environment is left as it is.
#   bash tools/reference/setup_env.sh [--peers]
# --peers also installs the runtimes compare_bench.py --peers times (onnx to export the encoder,
# ONNX Runtime and OpenVINO).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
# torch and torchvision from PyPI as a matching pair (their standard wheels run on the CPU). The
# CPU-only torch wheel in pip's local wheel folder cannot load PyPI's torchvision, so the pins
# resolve past it.
# transformers: its SAM 2 model classes, to check the Hugging Face layout fixtures
# (make_hf_fixtures.py); scipy: connected components for the reference's hole filling, whose own
# kernel needs CUDA (make_video_fixtures.py); av: PyAV, to encode and decode the H.264 fixture
# (make_video_file_fixture.py); pycocotools and opencv: the automatic mask generator's COCO RLE
# strings and connected components (make_amg_fixtures.py).
pins=(torch==2.14.1 torchvision==0.29.2 sam2==1.1.0 numpy pillow safetensors scipy transformers==5.23.0 av==18.1.0 pycocotools==2.0.11 opencv-python-headless==5.0.0.93)
peers=(onnx==1.23.2 onnxruntime==1.32.0 openvino==2026.4.1)
case "${1:-}" in
  --peers) pins+=("${peers[@]}"); imports="onnx, onnxruntime, openvino, " ;;
  "") imports="" ;;
  *) echo "setup_env.sh: unknown option '$1' (usage: setup_env.sh [--peers])" >&2; exit 2 ;;
esac
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import ${imports}sam2, torch, torchvision, safetensors, scipy, transformers, av, pycocotools, cv2" 2>/dev/null; then
  exit 0
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
PIP_FIND_LINKS= "$venv/bin/pip" install --quiet "${pins[@]}"
# sam2 builds an optional CUDA extension at install time; without CUDA it is skipped (the
# reference then skips hole filling, as it does on any CPU machine).
"$venv/bin/python" -c 'import sam2, torch, torchvision; print("reference env: torch", torch.__version__, "torchvision", torchvision.__version__)'
