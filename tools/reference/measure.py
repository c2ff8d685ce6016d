"""Shared helpers of the comparison and parity scripts: the release `sam2` binary, wall-clock time
and peak resident memory of a command, the reference's image predictor as the speed scripts time it,
and the Swift full-size parity suites."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))


def release_sam2(path=None):
    """The given binary, or a freshly built release `sam2`."""
    if path:
        return path
    subprocess.run(["swift", "build", "-c", "release", "--product", "sam2"], cwd=ROOT, check=True)
    bin_dir = subprocess.check_output(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, text=True).strip()
    return os.path.join(bin_dir, "sam2")


def wall_time(cmd):
    """Seconds from process start to exit; a failing command stops the script with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()}")
    return time.perf_counter() - start


def peak_rss(cmd):
    """Peak resident set size (MB) of a command, by GNU time."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as f:
        subprocess.run(["/usr/bin/time", "-f", "%M", "-o", f.name] + cmd, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return int(f.read().strip().splitlines()[-1]) / 1024


def reference_image_work(config, checkpoint, image, threads):
    """The reference's SAM2ImagePredictor on `checkpoint` with `threads`, the image as an array, and
    the speed scripts' predict: one point at the image centre, three masks."""
    import numpy as np
    import torch
    from PIL import Image
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor
    import random_checkpoint as rc

    torch.set_num_threads(threads)
    predictor = SAM2ImagePredictor(build_sam2(rc.CONFIG_FILES[config], checkpoint, device="cpu"))
    img = np.array(Image.open(image).convert("RGB"))
    point = np.array([[img.shape[1] / 2, img.shape[0] / 2]])

    def predict():
        predictor.predict(point_coords=point, point_labels=np.array([1]), multimask_output=True)
    return predictor, img, predict


def run_full_size_suite(suite, directory, configs):
    """Runs a Swift full-size parity suite (release build) on reference outputs in `directory`."""
    env = dict(os.environ, SAM2_FULL_SIZE_DIR=directory, SAM2_FULL_SIZE_CONFIGS=",".join(configs))
    cmd = ["swift", "test", "-c", "release", "-Xswiftc", "-enable-testing", "--filter", suite]
    sys.exit(subprocess.call(cmd, cwd=ROOT, env=env))


def full_size_parity(description, out, marker, generate, suite):
    """The full-size parity scripts' main: for each configuration asked for (all eight by default),
    reference outputs are generated into out/<config>/ by `generate(config, checkpoint, directory)`
    unless `marker` is there already; then the Swift suite runs on them."""
    import torch
    import architectures
    import random_checkpoint as rc

    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="*", default=sorted(rc.CONFIG_FILES))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    checkpoints = architectures.ensure_checkpoints(architectures.DEFAULT_DIR, args.configs)
    for config in args.configs:
        directory = os.path.join(out, config)
        if not os.path.exists(os.path.join(directory, marker)):
            print(f"reference outputs for {config}", file=sys.stderr)
            generate(config, checkpoints[config], directory)
    run_full_size_suite(suite, out, args.configs)
