"""Side-by-side time of a whole automatic mask generation, swift-sam2 against the reference, in one run.

    tools/reference/.venv/bin/python tools/reference/compare_auto.py [--checkpoint CKPT] [--image IMAGE]
        [--threads 2] [--sam2 PATH_TO_RELEASE_BINARY] [generator options as --points-per-side 32 ...]

The reference: SAM2AutomaticMaskGenerator(model, **options).generate(image) with the model already
built (its load is not counted). Ours: the whole `sam2 auto IMAGE --coco FILE` process (checkpoint
load, image decode and the COCO file included). Both with the generator's defaults unless options
are given. Prints both times, the ratio (ours / reference), and how the two sets of records agree
(count; records matched by point, mask IoU and predicted_iou difference).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

OPTIONS = {  # CLI option → (reference argument, type)
    "--points-per-side": ("points_per_side", int), "--points-per-batch": ("points_per_batch", int),
    "--pred-iou-thresh": ("pred_iou_thresh", float), "--stability-score-thresh": ("stability_score_thresh", float),
    "--box-nms-thresh": ("box_nms_thresh", float), "--crop-n-layers": ("crop_n_layers", int),
    "--min-mask-region-area": ("min_mask_region_area", int),
}


def reference(checkpoint, image, threads, options):
    import torch
    from PIL import Image
    from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator
    from sam2.build_sam import build_sam2
    import random_checkpoint as rc

    torch.set_num_threads(threads)
    config = "sam2.1_hiera_t" if "hiera_t" in os.path.basename(checkpoint) else None
    model = build_sam2(rc.CONFIG_FILES[config], checkpoint, device="cpu")
    img = np.array(Image.open(image).convert("RGB"))
    with torch.inference_mode():
        start = time.perf_counter()
        generator = SAM2AutomaticMaskGenerator(model, output_mode="coco_rle", **options)
        records = generator.generate(img)
        elapsed = time.perf_counter() - start
    return elapsed, records


def ours(binary, checkpoint, image, threads, extra):
    with tempfile.TemporaryDirectory() as tmp:
        coco = os.path.join(tmp, "coco.json")
        cmd = [binary, "auto", image, "--checkpoint", checkpoint, "--threads", str(threads), "--quiet", "--coco", coco] + extra
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.decode()}")
        with open(coco) as f:
            return elapsed, json.load(f)["annotations"]


def agreement(ref, mine):
    from pycocotools import mask as mask_utils

    worst_iou, worst_score, unmatched = 1.0, 0.0, 0
    left = list(range(len(mine)))
    for r in ref:
        p = r["point_coords"][0]
        cands = [i for i in left if abs(mine[i]["point_coords"][0][0] - p[0]) < 1e-3 and abs(mine[i]["point_coords"][0][1] - p[1]) < 1e-3]
        if not cands:
            unmatched += 1
            continue
        ious = [mask_utils.iou([mine[i]["segmentation"]], [r["segmentation"]], [0])[0][0] for i in cands]
        best = cands[int(np.argmax(ious))]
        left.remove(best)
        worst_iou = min(worst_iou, max(ious))
        worst_score = max(worst_score, abs(mine[best]["predicted_iou"] - r["predicted_iou"]))
    return worst_iou, worst_score, unmatched


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "sam2.1_hiera_t.pt"))
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sam2", default=os.path.join(ROOT, ".build", "release", "sam2"))
    args, rest = parser.parse_known_args()
    options = {}
    for flag, value in zip(rest[::2], rest[1::2]):
        name, kind = OPTIONS[flag]
        options[name] = kind(value)

    ref_time, ref_records = reference(args.checkpoint, args.image, args.threads, options)
    our_time, our_records = ours(args.sam2, args.checkpoint, args.image, args.threads, rest)
    worst_iou, worst_score, unmatched = agreement(ref_records, our_records)
    print(f"image {os.path.basename(args.image)}, checkpoint {os.path.basename(args.checkpoint)}, threads {args.threads}, options {options or 'defaults'}")
    print(f"reference generate: {ref_time:.2f} s, {len(ref_records)} records")
    print(f"sam2 auto (whole process): {our_time:.2f} s, {len(our_records)} records")
    print(f"ratio ours / reference: {our_time / ref_time:.3f}")
    print(f"agreement: {unmatched} reference records unmatched, min mask IoU {worst_iou:.5f}, max predicted_iou diff {worst_score:.2e}")


if __name__ == "__main__":
    main()
