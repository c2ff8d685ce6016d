"""Accuracy of reduced precision: ours in bf16 and int8 against our fp32, beside the reference's bf16
autocast against the reference fp32, on the same images, prompts and full-size random checkpoints.

    tools/reference/.venv/bin/python tools/reference/precision_accuracy.py [--configs sam2.1_hiera_t ...]
        [--sam2 RELEASE_BINARY] [--threads 2] [--images square,odd,portrait,large] [--video | --video-only] [--cases]
    tools/reference/.venv/bin/python tools/reference/precision_accuracy.py --fixture
        # the reference's bf16 autocast vs its fp32 on the committed small 2.1 fixture (the figures
        # PrecisionAccuracyTests holds ours to)

Images: square 1024², odd 901×677, portrait 600×900, large 1600×1200 (synthetic scenes). Prompts:
one point (three masks), a foreground and a background point, a box, a box with points, a mask input
(the reference fp32's best low-resolution logits of the point case) with a point. Per mask (logits at
the image's size): IoU of the masks (logits > 0), relative L2 of the logits, |Δ score|. Printed per
configuration: mean and minimum IoU (and the case of the minimum), mean logits relative L2, maximum
|Δ score|. With --video: per-frame IoU of `sam2 track` bf16 and int8 against our fp32 on a 30-frame
clip, beside the reference's bf16 autocast against its fp32 (video_accuracy).

The checkpoints are random (architectures.py): random weights are harsher on reduced precision than
trained ones (no learned margins; logits crowd around the threshold), so these are pessimistic.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import architectures  # noqa: E402
import make_model_fixtures as mf  # noqa: E402
import measure  # noqa: E402
import random_checkpoint as rc  # noqa: E402

# The object-score head's last bias (see video_accuracy).
PRESENCE_BIAS = "sam_mask_decoder.pred_obj_score_head.layers.2.bias"
IMAGES = {"square": (1024, 1024), "odd": (901, 677), "portrait": (600, 900), "large": (1600, 1200)}


def prompt_cases(w, h):
    """Case name → (predict kwargs, sam2 segment arguments) in pixel coordinates."""
    fg, bg, inner = (0.45 * w, 0.5 * h), (0.7 * w, 0.3 * h), (0.5 * w, 0.55 * h)
    box = [0.2 * w, 0.25 * h, 0.7 * w, 0.8 * h]
    pt = lambda p, label=1: ["--point", f"{p[0]},{p[1]},{label}"]  # noqa: E731
    bx = ["--box", ",".join(str(v) for v in box)]
    return {
        "point": (dict(point_coords=np.array([fg]), point_labels=np.array([1]), multimask_output=True),
                  pt(fg) + ["--multimask"]),
        "fg_bg": (dict(point_coords=np.array([fg, bg]), point_labels=np.array([1, 0]), multimask_output=False),
                  pt(fg) + pt(bg, 0) + ["--single"]),
        "box": (dict(box=np.array(box), multimask_output=False), bx + ["--single"]),
        "box_points": (dict(box=np.array(box), point_coords=np.array([inner]), point_labels=np.array([1]),
                            multimask_output=False), bx + pt(inner) + ["--single"]),
        "mask_point": (dict(point_coords=np.array([fg]), point_labels=np.array([1]), multimask_output=False),
                       pt(fg) + ["--single"]),
    }


def compare(a_logits, b_logits, a_scores, b_scores):
    """Per mask: (IoU, logits relative L2, |Δ score|) of a against b."""
    out = []
    for i in range(len(b_logits)):
        a, b = a_logits[i].astype(np.float64), b_logits[i].astype(np.float64)
        ma, mb = a > 0, b > 0
        union = np.logical_or(ma, mb).sum()
        iou = 1.0 if union == 0 else np.logical_and(ma, mb).sum() / union
        rel = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-12)
        out.append((float(iou), float(rel), abs(float(a_scores[i]) - float(b_scores[i]))))
    return out


def reference_runs(config, checkpoint, images, threads):
    """(image, case) → {"fp32": (logits, scores), "bf16": (...)}, and the mask inputs used."""
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.set_num_threads(threads)
    model = rc.build_model(config)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["model"])
    predictor = SAM2ImagePredictor(model)
    results, mask_inputs = {}, {}
    for name, path in images.items():
        img = np.array(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        cases = prompt_cases(w, h)
        for mode in ("fp32", "bf16"):
            ctx = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16" else torch.autocast("cpu", enabled=False)
            with torch.inference_mode(), ctx:
                predictor.set_image(img)
                for case, (kwargs, _) in cases.items():
                    kw = dict(kwargs)
                    if case == "mask_point":
                        kw["mask_input"] = mask_inputs[name][None]
                    masks, scores, low = predictor.predict(return_logits=True, **kw)
                    results.setdefault((name, case), {})[mode] = (np.asarray(masks, np.float32), np.asarray(scores))
                    if mode == "fp32" and case == "point":
                        mask_inputs[name] = np.asarray(low[np.argmax(scores)], np.float32)
    return results, mask_inputs


def our_runs(sam2, checkpoint, images, mask_inputs, precision, threads, tmp):
    results = {}
    for name, path in images.items():
        w, h = Image.open(path).size
        mask_file = os.path.join(tmp, f"{name}_mask_input.npy")
        np.save(mask_file, mask_inputs[name])
        for case, (_, args) in prompt_cases(w, h).items():
            logits = os.path.join(tmp, f"{name}_{case}_{precision}.npy")
            extra = ["--mask-input", mask_file] if case == "mask_point" else []
            out = subprocess.check_output(
                [sam2, "segment", path, "--checkpoint", checkpoint, "--precision", precision, "--threads",
                 str(threads), "--save-logits", logits, "--json", "--quiet", "--output",
                 os.path.join(tmp, "masks")] + args + extra)
            record = json.loads(out.decode().strip().splitlines()[-1])
            results[(name, case)] = (np.load(logits), np.array([m["score"] for m in record["masks"]]))
    return results


def summarize(label, rows):
    """rows: [(image, case, mask index, (iou, rel, dscore))] → one line of figures."""
    ious = [r[3][0] for r in rows]
    worst = min(rows, key=lambda r: r[3][0])
    return (f"  {label:<28} IoU mean {np.mean(ious):.4f} min {worst[3][0]:.4f} ({worst[0]}/{worst[1]}#{worst[2]})  "
            f"logits rel L2 mean {np.mean([r[3][1] for r in rows]):.4f} max {max(r[3][1] for r in rows):.4f}  "
            f"|Δscore| max {max(r[3][2] for r in rows):.4f}")


def reference_video(config, checkpoint, frames, point, threads):
    """The reference video predictor's masks (logits > 0) over the clip, in fp32 and under bf16
    autocast: {"fp32": [mask per frame], "bf16": [...]}. Hole filling and speck removal run as ours
    (the CPU connected components of make_video_fixtures)."""
    from sam2.utils import misc
    import make_video_fixtures as mv

    misc.get_connected_components = mv.connected_components_cpu
    torch.set_num_threads(threads)
    predictor = rc.build_model(config, video=True)
    predictor.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["model"])
    masks = {}
    for mode in ("fp32", "bf16"):
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16" else torch.autocast("cpu", enabled=False)
        per_frame = {}
        with torch.inference_mode(), ctx:
            state = predictor.init_state(frames)
            predictor.add_new_points_or_box(state, 0, 1, points=[point], labels=[1])
            for t, _, logits in predictor.propagate_in_video(state):
                per_frame[t] = (logits[0, 0] > 0).cpu().numpy()
        masks[mode] = [per_frame[t] for t in sorted(per_frame)]
    return masks


def frame_ious(a_masks, b_masks):
    """Per-frame IoU of two mask sequences (1 where both are empty)."""
    ious = []
    for a, b in zip(a_masks, b_masks):
        union = np.logical_or(a, b).sum()
        ious.append(1.0 if union == 0 else np.logical_and(a, b).sum() / union)
    return ious


def video_accuracy(sam2, config, checkpoint, threads, tmp):
    """Per-frame IoU over a 30-frame synthetic clip (one object, one click on frame 0): `sam2 track`
    bf16 and int8 against our fp32, beside the reference's bf16 autocast against its fp32 — on the
    random checkpoint as it is, and on a copy whose object-score head is biased by +10 (random
    weights put the object-score logit near 0, so the smallest difference flips the object's
    presence and the memories part; trained weights keep it far from 0 on a visible object)."""
    frames = os.path.join(tmp, "clip")
    os.makedirs(frames, exist_ok=True)
    w, h = 640, 480
    base = mf.make_image("clip", w, h, seed=3).astype(np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    for t in range(30):
        img = base.copy()
        cx, cy = 200 + 8 * t, 240 + 3 * t
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < 70 ** 2] = [230, 40, 40]
        Image.fromarray(img.astype(np.uint8)).save(os.path.join(frames, f"{t:05d}.jpg"), quality=95)
    prompts = os.path.join(tmp, "prompts.json")
    with open(prompts, "w") as f:
        json.dump([{"frame": 0, "object": 1, "points": [[200, 240]], "labels": [1]}], f)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]
    state[PRESENCE_BIAS] = state[PRESENCE_BIAS] + 10
    biased = os.path.join(tmp, "presence_biased.pt")
    torch.save({"model": state}, biased)

    def line(label, ious):
        worst = int(np.argmin(ious))
        return f"  {label:<40} IoU mean {np.mean(ious):.4f} min {ious[worst]:.4f} (frame {worst})"

    for name, ckpt in (("random checkpoint", checkpoint), ("object score biased +10", biased)):
        masks = {}
        for precision in ("fp32", "bf16", "int8"):
            out = os.path.join(tmp, f"track_{precision}")
            subprocess.check_call([sam2, "track", frames, "--checkpoint", ckpt, "--prompts", prompts, "--output",
                                   out, "--precision", precision, "--threads", str(threads), "--quiet"])
            masks[precision] = [np.array(Image.open(os.path.join(out, f"{t:05d}.png"))) == 1 for t in range(30)]
        ref = reference_video(config, ckpt, frames, [200, 240], threads)
        print(f"  video, 30 frames, {name}:")
        print(line("ref bf16 autocast vs ref fp32", frame_ious(ref["bf16"], ref["fp32"])))
        print(line("ours fp32 vs ref fp32", frame_ious(masks["fp32"], ref["fp32"])))
        for precision in ("bf16", "int8"):
            print(line(f"ours {precision} vs ours fp32", frame_ious(masks[precision], masks["fp32"])))
        sys.stdout.flush()


def fixture_reference(threads):
    """The reference's bf16 autocast against its fp32 on the small 2.1 fixture's images and weights."""
    import small_config as sc
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    torch.set_num_threads(threads)
    fixtures = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "model")
    model = rc.build_model("sam2.1_hiera_t", sc.hydra_overrides())
    state = torch.load(os.path.join(fixtures, "small_2.1.pt"), map_location="cpu", weights_only=True)
    model.load_state_dict(state.get("model", state))
    predictor = SAM2ImagePredictor(model)
    s = sc.IMAGE_SIZE
    predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    images = {n: os.path.join(fixtures, "images", f"{n}.png") for n in ("square", "landscape", "portrait", "odd", "large")}
    # reference_runs with the fixture's predictor: the same cases, fp32 and autocast.
    rows = []
    for name, path in images.items():
        img = np.array(Image.open(path).convert("RGB"))
        h, w = img.shape[:2]
        res, mask_input = {}, None
        for mode in ("fp32", "bf16"):
            ctx = torch.autocast("cpu", dtype=torch.bfloat16) if mode == "bf16" else torch.autocast("cpu", enabled=False)
            with torch.inference_mode(), ctx:
                predictor.set_image(img)
                for case, (kwargs, _) in prompt_cases(w, h).items():
                    kw = dict(kwargs, mask_input=mask_input[None]) if case == "mask_point" else dict(kwargs)
                    masks, scores, low = predictor.predict(return_logits=True, **kw)
                    res[(case, mode)] = (np.asarray(masks, np.float32), np.asarray(scores))
                    if mode == "fp32" and case == "point":
                        mask_input = np.asarray(low[np.argmax(scores)], np.float32)
        for case in prompt_cases(w, h):
            (a, sa), (b, sb) = res[(case, "bf16")], res[(case, "fp32")]
            rows += [(name, case, i, f) for i, f in enumerate(compare(a, b, sa, sb))]
    print(summarize("small 2.1 fixture: ref bf16 autocast vs ref fp32", rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="*", default=["sam2.1_hiera_t"])
    parser.add_argument("--sam2", default=None, help="release sam2 binary (default: build it)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", default=",".join(IMAGES))
    parser.add_argument("--video", action="store_true", help="also the 30-frame video clip")
    parser.add_argument("--cases", action="store_true", help="print every case's figures")
    parser.add_argument("--fixture", action="store_true", help="only the reference on the small 2.1 fixture")
    parser.add_argument("--video-only", action="store_true", help="only the video clip (implies --video)")
    args = parser.parse_args()
    if args.fixture:
        fixture_reference(args.threads)
        return
    sam2 = measure.release_sam2(args.sam2)
    checkpoints = architectures.ensure_checkpoints(architectures.DEFAULT_DIR, args.configs)
    with tempfile.TemporaryDirectory() as tmp:
        images = {}
        for i, name in enumerate(args.images.split(",")):
            w, h = IMAGES[name]
            images[name] = os.path.join(tmp, f"{name}.png")
            Image.fromarray(mf.make_image(name, w, h, seed=11 + i)).save(images[name])
        for config in args.configs:
            checkpoint = checkpoints[config]
            if args.video_only:
                print(f"{config} (random weights)")
                video_accuracy(sam2, config, checkpoint, args.threads, tmp)
                continue
            print(f"{config} (random weights; {len(images)} images × 5 prompts)")
            ref, mask_inputs = reference_runs(config, checkpoint, images, args.threads)
            ours = {p: our_runs(sam2, checkpoint, images, mask_inputs, p, args.threads, tmp)
                    for p in ("fp32", "bf16", "int8")}
            table = {"ref bf16 autocast vs ref fp32": [], "ours fp32 vs ref fp32": [],
                     "ours bf16 vs ours fp32": [], "ours int8 vs ours fp32": []}
            for key in ref:
                pairs = {"ref bf16 autocast vs ref fp32": (ref[key]["bf16"], ref[key]["fp32"]),
                         "ours fp32 vs ref fp32": (ours["fp32"][key], ref[key]["fp32"]),
                         "ours bf16 vs ours fp32": (ours["bf16"][key], ours["fp32"][key]),
                         "ours int8 vs ours fp32": (ours["int8"][key], ours["fp32"][key])}
                for label, (a, b) in pairs.items():
                    for i, figures in enumerate(compare(a[0], b[0], a[1], b[1])):
                        table[label].append((key[0], key[1], i, figures))
                        if args.cases:
                            print(f"    {label:<30} {key[0]}/{key[1]}#{i}: IoU {figures[0]:.4f} "
                                  f"rel {figures[1]:.4f} Δs {figures[2]:.4f}")
            for label, rows in table.items():
                print(summarize(label, rows))
            if args.video:
                video_accuracy(sam2, config, checkpoint, args.threads, tmp)
            sys.stdout.flush()


if __name__ == "__main__":
    main()
