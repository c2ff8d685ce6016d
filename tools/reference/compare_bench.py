"""Side-by-side speed of swift-sam2 and the reference, in one run, as ratios (ours / reference).

    tools/reference/.venv/bin/python tools/reference/compare_bench.py --checkpoint CKPT [--image IMAGE]
        [--threads 2] [--repeat 5] [--sam2 PATH_TO_RELEASE_BINARY]

Measures, on the same checkpoint, image and thread count:
  set_image   median time (reference: SAM2ImagePredictor.set_image; ours: `sam2 bench`)
  predict     median time of one point at the image centre, three masks, upsampled to the image
  end to end  process start to mask files: `sam2 segment` against segment_reference.py
  peak RSS    of those two processes
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import measure  # noqa: E402


def reference_times(config, checkpoint, image, threads, repeat):
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
    with torch.inference_mode():
        predictor.set_image(img)
        predict()
        set_times, predict_times = [], []
        for _ in range(repeat):
            t = time.perf_counter(); predictor.set_image(img); set_times.append(time.perf_counter() - t)
        for _ in range(repeat):
            t = time.perf_counter(); predict(); predict_times.append(time.perf_counter() - t)
    return statistics.median(set_times) * 1000, statistics.median(predict_times) * 1000


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sam2", default=None, help="release sam2 binary (default: build it)")
    args = parser.parse_args()
    sam2 = measure.release_sam2(args.sam2)
    info = json.loads(subprocess.check_output([sam2, "info", args.checkpoint, "--json"]))
    config = info["config"]
    from PIL import Image
    w, h = Image.open(args.image).size

    ours = json.loads(subprocess.check_output([sam2, "bench", "--checkpoint", args.checkpoint, "--image", args.image,
                                               "--repeat", str(args.repeat), "--threads", str(args.threads), "--json"]))
    ref_set, ref_predict = reference_times(config, args.checkpoint, args.image, args.threads, args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [sam2, "segment", args.image, "--checkpoint", args.checkpoint, "--point", f"{w / 2},{h / 2}",
                    "--output", os.path.join(tmp, "ours"), "--threads", str(args.threads)]
        ref_cmd = [sys.executable, os.path.join(HERE, "segment_reference.py"), args.image, args.checkpoint, config,
                   str(w / 2), str(h / 2), os.path.join(tmp, "ref"), "--threads", str(args.threads)]
        ours_e2e = min(measure.wall_time(ours_cmd) for _ in range(2))
        ref_e2e = min(measure.wall_time(ref_cmd) for _ in range(2))
        ours_rss, ref_rss = measure.peak_rss(ours_cmd), measure.peak_rss(ref_cmd)

    rows = [
        ("set_image (ms, median)", ours["set_image_ms"], ref_set),
        ("predict (ms, median)", ours["predict_ms"], ref_predict),
        ("start to mask files (s)", ours_e2e, ref_e2e),
        ("peak RSS (MB)", ours_rss, ref_rss),
    ]
    print(f"{config}, {args.threads} threads, image {w}x{h}")
    print(f"{'':26} {'ours':>10} {'reference':>10} {'ratio':>7}")
    for name, o, r in rows:
        print(f"{name:26} {o:10.1f} {r:10.1f} {o / r:7.2f}")


if __name__ == "__main__":
    main()
