"""Writes the committed automatic-mask-generator parity fixtures (Tests/SAM2Tests/Fixtures/amg/).

The reference SAM2AutomaticMaskGenerator runs on the committed small 2.1 checkpoint
(Fixtures/model/small_2.1.pt, small_config.py; `_bb_feat_sizes` set for the 128-pixel input as in
make_model_fixtures.py) and the committed test images, with 8 points per side:

  open.json    "odd": every filter opened (pred_iou_thresh 0, stability_score_thresh 0,
               box_nms_thresh 1.0), so that every per-point mask (64 points × 3) is a record.
  crops.json   "landscape": the defaults plus one crop layer and min_mask_region_area 12, with the IoU,
               stability and NMS thresholds chosen from the data (see below) so that some but not
               all records survive.
  m2m.json     "square": use_m2m with 4 points per side, filters opened.
  rle.json     pycocotools `mask.encode` strings of synthetic masks (empty, full, one pixel, runs longer
               than 2^15, a mask starting with 1, random blobs) with their uncompressed counts.

Each case file holds the reference's options and its records compactly: the COCO RLE string of
the segmentation (pycocotools), area, bbox (XYWH), predicted_iou, stability_score, point_coords and
crop_box (XYWH).

Choosing the thresholds of "crops". The random weights give predicted IoUs of about 0.45-0.8 and
stability scores of about 0-0.35 (the defaults 0.8 and 0.95 would reject everything). The case
is first run with the filters and both NMS opened; `pred_iou_thresh` and `stability_score_thresh` are
then put in the middle of the widest gap between sorted values low in their range (quantiles 0.1-0.5
for the IoU, 0.02-0.2 for the stability of the masks passing it), so that no value
lies within 0.005 of the IoU threshold or 0.001 of the stability threshold (a share of ~10^4-10^5
pixels), and both NMS thresholds are set to the value in [0.85, 0.98]
farthest from every pairwise box IoU (at least 0.005 away). The random masks nearly all cover most of
the image, so NMS at 0.7 would leave a single record; near 0.9 it keeps the few distinct ones. A rounding-level difference in a prediction then cannot flip a filter decision.

min_mask_region_area. In sam2 1.1.0 it only reaches the image predictor as max_hole_area and
max_sprinkle_area (`generate` never calls postprocess_small_regions), where hole filling needs the
CUDA extension's `get_connected_components`; on a CPU the reference warns and skips it. The fixtures
show the official behaviour with the extension: `get_connected_components` is replaced by the same
computation on the CPU (8-connectivity, component area per pixel, cv2), and the script prints how many
low-resolution masks it changed.

    tools/reference/.venv/bin/python tools/reference/make_amg_fixtures.py
"""
import json
import os
import sys

import cv2
import numpy as np
import torch
from PIL import Image
from pycocotools import mask as mask_utils

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_checkpoint as rc  # noqa: E402
import small_config as sc  # noqa: E402

MODEL = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "model")
OUT = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "amg")
MIN_AREA = 12
changed_by_postprocessing = [0]


def cpu_connected_components(mask):
    """sam2._C.get_connected_componnets on the CPU: labels and component areas, (N, 1, H, W)."""
    m = mask.to(torch.uint8).numpy()
    labels = np.zeros(m.shape, np.int32)
    areas = np.zeros(m.shape, np.int32)
    for i in range(m.shape[0]):
        _, lab, stats, _ = cv2.connectedComponentsWithStats(m[i, 0], connectivity=8)
        labels[i, 0] = lab
        areas[i, 0] = np.where(lab > 0, stats[lab, cv2.CC_STAT_AREA], 0)
        changed_by_postprocessing[0] += int(((areas[i, 0] > 0) & (areas[i, 0] <= MIN_AREA)).any())
    return torch.from_numpy(labels), torch.from_numpy(areas)


def load_model():
    model = rc.build_model("sam2.1_hiera_t", sc.hydra_overrides())
    state = torch.load(os.path.join(MODEL, "small_2.1.pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(state.get("model", state), strict=True)
    return model


def image(name):
    return np.array(Image.open(os.path.join(MODEL, "images", f"{name}.png")).convert("RGB"))


def run(model, img, **options):
    from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator

    gen = SAM2AutomaticMaskGenerator(model, output_mode="coco_rle", **options)
    s = sc.IMAGE_SIZE
    gen.predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    return gen.generate(img)


def compact(records):
    return [dict(segmentation=r["segmentation"]["counts"], area=int(r["area"]), bbox=[int(v) for v in r["bbox"]],
                 predicted_iou=r["predicted_iou"], stability_score=r["stability_score"],
                 point_coords=r["point_coords"][0], crop_box=[int(v) for v in r["crop_box"]]) for r in records]


def write(name, image_name, img, options, records):
    doc = dict(image=image_name, width=img.shape[1], height=img.shape[0], options=options, records=compact(records))
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
    print(f"{name}: {image_name} {img.shape[1]}x{img.shape[0]}, {len(records)} records")


def gap_threshold(values, margin, quantiles):
    """The middle of the widest gap between sorted values within `quantiles` (both sides ≥ margin away)."""
    v = np.unique(np.asarray(values, np.float64))
    lo, hi = int(len(v) * quantiles[0]), int(len(v) * quantiles[1])
    best = max(range(max(lo, 1), max(hi, 2)), key=lambda i: v[i] - v[i - 1])
    t = (v[best] + v[best - 1]) / 2
    assert v[best] - t >= margin, f"no gap of {2 * margin} in the lower half: {v[best - 1]} .. {v[best]}"
    return round(float(t), 4)


def box_ious(records):
    b = np.array([[r["bbox"][0], r["bbox"][1], r["bbox"][0] + r["bbox"][2], r["bbox"][1] + r["bbox"][3]]
                  for r in records], np.float64)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt = np.maximum(b[:, None, :2], b[None, :, :2])
    rb = np.minimum(b[:, None, 2:], b[None, :, 2:])
    wh = np.clip(rb - lt, 0, None)
    inter = wh[..., 0] * wh[..., 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area[:, None] + area[None, :] - inter)


def nms_threshold(ious):
    """The threshold in [0.85, 0.98] farthest from every pairwise box IoU (at least 0.005 away)."""
    ious = ious[np.isfinite(ious)]
    candidates = np.round(np.arange(0.85, 0.9801, 0.005), 3)
    distance = [np.abs(ious - t).min() for t in candidates]
    best = int(np.argmax(distance))
    assert distance[best] >= 0.005, "every NMS threshold in [0.85, 0.98] lies near a box IoU"
    return float(candidates[best])


def rle_cases():
    rng = np.random.default_rng(7)
    masks = [np.zeros((5, 7), bool), np.ones((6, 4), bool), np.zeros((9, 11), bool)]
    masks[2][8, 10] = True
    starts_on = np.zeros((13, 17), bool)
    starts_on[:4, :3] = True
    masks.append(starts_on)
    long_runs = np.zeros((300, 400), bool)
    long_runs[:, 150:390] = True
    long_runs[40:60, 10:20] = True
    masks.append(long_runs)
    for h, w in ((31, 29), (64, 48), (120, 90)):
        noise = rng.random((h // 4 + 1, w // 4 + 1))
        up = np.kron(noise, np.ones((4, 4)))[:h, :w]
        masks.append(up > rng.uniform(0.3, 0.7))
    out = []
    for m in masks:
        enc = mask_utils.encode(np.asfortranarray(m.astype(np.uint8)))
        flat = m.T.reshape(-1)
        change = np.flatnonzero(flat[1:] != flat[:-1]) + 1
        bounds = np.concatenate([[0], change, [flat.size]])
        counts = ([] if not flat[0] else [0]) + np.diff(bounds).tolist()
        out.append(dict(size=[int(m.shape[0]), int(m.shape[1])], counts=[int(c) for c in counts],
                        coco=enc["counts"].decode("ascii"), area=int(mask_utils.area(enc))))
    with open(os.path.join(OUT, "rle.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"rle.json: {len(out)} masks")


def main():
    torch.set_num_threads(2)
    import sam2.utils.misc as misc

    misc.get_connected_components = cpu_connected_components
    os.makedirs(OUT, exist_ok=True)
    model = load_model()

    opened = dict(pred_iou_thresh=0.0, stability_score_thresh=0.0, box_nms_thresh=1.0)
    img = image("odd")
    options = dict(points_per_side=8, **opened)
    write("open.json", "odd", img, options, run(model, img, **options))

    img = image("landscape")
    base = dict(points_per_side=8, crop_n_layers=1, min_mask_region_area=MIN_AREA)
    everything = run(model, img, **base, **opened, crop_nms_thresh=1.0)
    options = dict(base, pred_iou_thresh=gap_threshold([r["predicted_iou"] for r in everything], 0.005, (0.1, 0.5)))
    passed_iou = [r for r in everything if r["predicted_iou"] > options["pred_iou_thresh"]]
    options["stability_score_thresh"] = gap_threshold([r["stability_score"] for r in passed_iou], 0.001, (0.02, 0.2))
    options["box_nms_thresh"] = options["crop_nms_thresh"] = nms_threshold(box_ious(everything))
    changed_by_postprocessing[0] = 0
    records = run(model, img, **options)
    assert 0 < len(records) < len(everything), f"{len(records)} of {len(everything)} records survive"
    print(f"crops: thresholds {options}, {len(records)} of {len(everything)} survive; "
          f"hole filling / speck removal changed {changed_by_postprocessing[0]} low-res masks")
    write("crops.json", "landscape", img, options, records)

    img = image("square")
    options = dict(points_per_side=4, use_m2m=True, **opened)
    write("m2m.json", "square", img, options, run(model, img, **options))

    rle_cases()


if __name__ == "__main__":
    main()
