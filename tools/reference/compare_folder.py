"""Throughput on a folder of images with a detector's boxes, swift-sam2 against the reference, in one run.

    tools/reference/.venv/bin/python tools/reference/compare_folder.py [--checkpoint CKPT] [--images 50]
        [--size 1024x768] [--threads 2] [--sam2 PATH_TO_RELEASE_BINARY]

Makes a folder of varied JPEGs (crops, flips, zooms and colour shifts of assets/astronaut.jpg) and YOLO
labels giving every image the same three boxes, in tools/reference/folder_bench/ (not committed). Then:

  reference  a Python loop over the folder: PIL decode, SAM2ImagePredictor.set_image, one
             predict(box=the three boxes, multimask_output=False), the masks written as 0/255 PNGs;
             the model is built before the clock starts
  ours       the whole `sam2 segment DIR --boxes-from LABELS --output OUT` process (checkpoint load,
             decode, encode, masks, PNG and record writes), --overwrite so every image is redone

both on the same checkpoint (tiny, random weights by default) and thread count. Prints images per
minute of both, the ratio (ours / reference, higher is better) and how the masks agree (IoU).
"""
import argparse
import os
import shutil
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
WORK = os.path.join(HERE, "folder_bench")
sys.path.insert(0, HERE)
import measure  # noqa: E402

# YOLO boxes (cx, cy, w, h as fractions): binary fractions, so that both sides get the same pixel boxes.
BOXES = [(0.5, 0.5, 0.5, 0.75), (0.25, 0.375, 0.25, 0.25), (0.75, 0.625, 0.125, 0.5)]


def make_folder(count, width, height):
    """count JPEGs of width×height and a YOLO label file per image; reused when already there."""
    from PIL import Image, ImageEnhance, ImageOps

    images, labels = os.path.join(WORK, "images"), os.path.join(WORK, "labels")
    if os.path.isdir(images) and len(os.listdir(images)) == count and all(
            Image.open(os.path.join(images, f)).size == (width, height) for f in os.listdir(images)[:1]):
        return images, labels
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(images)
    os.makedirs(labels)
    source = Image.open(os.path.join(ROOT, "assets", "astronaut.jpg")).convert("RGB")
    rng = np.random.default_rng(0)
    for i in range(count):
        side = int(rng.integers(256, 513))
        x, y = int(rng.integers(0, 513 - side)), int(rng.integers(0, 513 - side))
        image = source.crop((x, y, x + side, y + side)).resize((width, height), Image.BICUBIC)
        if i % 2:
            image = ImageOps.mirror(image)
        image = ImageEnhance.Color(image).enhance(float(rng.uniform(0.5, 1.5)))
        image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.8, 1.2)))
        stem = f"{i:06d}"
        image.save(os.path.join(images, stem + ".jpg"), quality=90)
        with open(os.path.join(labels, stem + ".txt"), "w") as f:
            f.writelines(f"0 {cx} {cy} {w} {h}\n" for cx, cy, w, h in BOXES)
    return images, labels


def reference(checkpoint, images, out, threads):
    import torch
    from PIL import Image
    from sam2.build_sam import build_sam2
    from sam2.sam2_image_predictor import SAM2ImagePredictor
    import random_checkpoint as rc

    torch.set_num_threads(threads)
    config = "sam2.1_hiera_t" if "hiera_t" in os.path.basename(checkpoint) else None
    start = time.perf_counter()
    predictor = SAM2ImagePredictor(build_sam2(rc.CONFIG_FILES[config], checkpoint, device="cpu"))
    built = time.perf_counter()
    with torch.inference_mode():
        for name in sorted(os.listdir(images)):
            image = np.array(Image.open(os.path.join(images, name)).convert("RGB"))
            h, w = image.shape[:2]
            boxes = np.array([[(cx - bw / 2) * w, (cy - bh / 2) * h, (cx + bw / 2) * w, (cy + bh / 2) * h] for cx, cy, bw, bh in BOXES])
            predictor.set_image(image)
            masks, _, _ = predictor.predict(box=boxes, multimask_output=False)
            directory = os.path.join(out, os.path.splitext(name)[0])
            os.makedirs(directory, exist_ok=True)
            for k, mask in enumerate(masks[:, 0]):
                Image.fromarray((mask > 0).astype(np.uint8) * 255).save(os.path.join(directory, f"mask_{k}.png"))
    return time.perf_counter() - built, built - start


def agreement(ours, ref):
    from PIL import Image

    ious = []
    for stem in sorted(os.listdir(ref)):
        for k in range(len(BOXES)):
            a = np.array(Image.open(os.path.join(ours, stem, f"mask_{k}.png"))) > 0
            b = np.array(Image.open(os.path.join(ref, stem, f"mask_{k}.png"))) > 0
            union = np.logical_or(a, b).sum()
            ious.append(1.0 if union == 0 else np.logical_and(a, b).sum() / union)
    return min(ious), float(np.mean(ious))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=os.path.join(HERE, "checkpoints", "sam2.1_hiera_t.pt"))
    parser.add_argument("--images", type=int, default=50)
    parser.add_argument("--size", default="1024x768")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sam2", default=None, help="release sam2 binary (default: build it)")
    args = parser.parse_args()
    width, height = map(int, args.size.split("x"))
    sam2 = measure.release_sam2(args.sam2)
    images, labels = make_folder(args.images, width, height)
    ours_out, ref_out = os.path.join(WORK, "out_ours"), os.path.join(WORK, "out_reference")
    shutil.rmtree(ref_out, ignore_errors=True)

    load = [os.getloadavg()[0]]
    ref_loop, ref_build = reference(args.checkpoint, images, ref_out, args.threads)
    load.append(os.getloadavg()[0])
    cmd = [sam2, "segment", images, "--checkpoint", args.checkpoint, "--boxes-from", labels, "--output", ours_out,
           "--threads", str(args.threads), "--quiet", "--overwrite"]
    ours = measure.wall_time(cmd)
    load.append(os.getloadavg()[0])
    worst, mean = agreement(ours_out, ref_out)
    n = args.images
    print(f"{n} images {width}x{height}, {len(BOXES)} boxes each, checkpoint {os.path.basename(args.checkpoint)}, threads {args.threads}")
    print(f"reference loop (model built before, {ref_build:.1f} s, not counted): {ref_loop:.1f} s, {60 * n / ref_loop:.1f} images/min")
    print(f"sam2 segment DIR (whole process): {ours:.1f} s, {60 * n / ours:.1f} images/min")
    print(f"throughput ratio ours / reference: {ref_loop / ours:.2f}x")
    print(f"masks: min IoU {worst:.5f}, mean IoU {mean:.5f} over {n * len(BOXES)}")
    print(f"1-minute load average before / between / after: {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} on {os.cpu_count()} cores")
    print("command: " + " ".join(cmd))


if __name__ == "__main__":
    main()
