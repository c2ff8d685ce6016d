"""Writes the committed video-tracking parity fixtures (Tests/SAM2Tests/Fixtures/video/).

A 10-frame clip of moving discs (frames/<nnnnn>.jpg, 64×48) is tracked by the reference
SAM2VideoPredictor on the small SAM 2.1 and SAM 2.0 checkpoints (make_model_fixtures.py) through one
session of events: a click on object 1 and a box on object 2 at frame 0, forward propagation, a
correction click on object 1 at frame 5 (a tracked frame: as in the reference, the correction stays
out of the conditioning frames and the next propagation recomputes that frame), a new object 3 given
by a mask on frame 4 after tracking started, forward propagation again (object 3 is tracked on frames
0–3 from its later conditioning frame), and reverse propagation from the last frame. <version>_session.safetensors holds, per event and
frame, the masks at video resolution (logits), the low-resolution masks and the object scores; its
metadata ("session", one key so that the file is byte-for-byte reproducible) holds the events as JSON.

The reference runs as its builder sets it up for video (fill_hole_area 8, binarized point masks),
with two CPU-side adjustments that change no semantics: its hole filling needs a CUDA kernel that is
replaced by the same 8-connected component labelling on the CPU (scipy), and the memory bank, kept in
bfloat16 by the reference, is widened to float32 before the memory attention (on the CPU the reference
otherwise fails in reverse propagation on mixed dtypes).

Non-degenerate by construction: the clip's seed is searched until on every frame of every propagation
both objects are present (object score > 0) and cover between 2% and 98% of the frame.

    tools/reference/.venv/bin/python tools/reference/make_video_fixtures.py
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file
from scipy import ndimage

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_checkpoint as rc  # noqa: E402
import small_config as sc  # noqa: E402

MODEL_DIR = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "model")
OUT = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "video")
W, H, FRAMES = 64, 48, 10


def connected_components_cpu(mask):
    """sam2.utils.misc.get_connected_components on the CPU: 8-connected labels and areas, [N, 1, H, W]."""
    m = mask.cpu().numpy().astype(bool)
    labels = np.zeros(m.shape, dtype=np.int32)
    areas = np.zeros(m.shape, dtype=np.int32)
    for i in range(m.shape[0]):
        lab, _ = ndimage.label(m[i, 0], structure=np.ones((3, 3), dtype=int))
        counts = np.bincount(lab.ravel())
        counts[0] = 0
        labels[i, 0] = lab
        areas[i, 0] = counts[lab]
    return torch.from_numpy(labels), torch.from_numpy(areas)


def make_clip(directory, seed, width=W, height=H, frames=FRAMES):
    """Two discs moving across a textured background, written as JPEG frames (sizes scale with the
    frame; the defaults are the committed 64×48 clip)."""
    rng = np.random.default_rng(seed)
    k = width / W
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([70 + 60 * xx / width, 90 + 50 * yy / height, 150 - 40 * xx / width], axis=-1) + rng.normal(0, 3, (height, width, 3))
    starts = [(rng.uniform(12, 24) * k, rng.uniform(14, 34) * k), (rng.uniform(38, 50) * k, rng.uniform(14, 34) * k)]
    speeds = [(rng.uniform(0.8, 1.6) * k, rng.uniform(-0.8, 0.8) * k), (rng.uniform(-1.6, -0.8) * k, rng.uniform(-0.8, 0.8) * k)]
    colors = [rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)]
    centres = []
    for t in range(frames):
        img = base.copy()
        frame_centres = []
        for (x0, y0), (vx, vy), col in zip(starts, speeds, colors):
            cx, cy = x0 + vx * t, y0 + vy * t
            img[(xx - cx) ** 2 + (yy - cy) ** 2 < 81 * k * k] = col
            frame_centres.append((cx, cy))
        centres.append(frame_centres)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(os.path.join(directory, f"{t:05d}.jpg"), quality=95)
    return centres


def small_model(version):
    """The committed small model of `version` as the reference's video predictor."""
    config = "sam2.1_hiera_t" if version == "2.1" else "sam2_hiera_t"
    predictor = rc.build_model(config, sc.hydra_overrides(), video=True)
    ckpt = "small_2.1.pt" if version == "2.1" else "small_2.0.safetensors"
    if ckpt.endswith(".pt"):
        state = torch.load(os.path.join(MODEL_DIR, ckpt), map_location="cpu", weights_only=True)["model"]
    else:
        from safetensors.torch import load_file
        state = load_file(os.path.join(MODEL_DIR, ckpt))
    predictor.load_state_dict(state)
    return predictor


def run_session(predictor, frames_dir, centres, width=W, height=H, full=True, coverage=(0.02, 0.98)):
    """Replays the session (the whole one, or with `full` False only the prompts on frame 0 and
    the first propagation) on the reference; returns ((events, tensors), None) or (None, reason)."""
    from sam2.utils import misc
    misc.get_connected_components = connected_components_cpu
    attend = predictor.memory_attention.forward
    predictor.memory_attention.forward = lambda curr, memory, curr_pos=None, memory_pos=None, num_obj_ptr_tokens=0: attend(
        curr, memory.float(), curr_pos, memory_pos.float(), num_obj_ptr_tokens)

    events, tensors = [], {}

    def record(name, frame, obj_ids, video_masks, state):
        key = f"{len(events):02d}_{name}_{frame:02d}"
        tensors[f"{key}.video"] = video_masks[:, 0].float().contiguous()
        low, scores = [], []
        for obj_idx in range(len(obj_ids)):
            out = None
            for src in (state["temp_output_dict_per_obj"][obj_idx], state["output_dict_per_obj"][obj_idx]):
                out = out or src["cond_frame_outputs"].get(frame) or src["non_cond_frame_outputs"].get(frame)
            low.append(out["pred_masks"][0, 0].float())
            scores.append(float(out["object_score_logits"].flatten()[0]))
        tensors[f"{key}.low"] = torch.stack(low).contiguous()
        tensors[f"{key}.scores"] = torch.tensor(scores)
        return key, scores

    def check(key, scores, video_masks):
        for k, s in enumerate(scores):
            frac = (video_masks[k, 0] > 0).float().mean().item()
            if not s > 0:
                return f"{key}: object {k} absent (score {s:.3f})"
            if not coverage[0] <= frac <= coverage[1]:
                return f"{key}: object {k} covers {frac:.3f}"
        return None

    with torch.inference_mode():
        state = predictor.init_state(frames_dir)
        (c1x, c1y), (c2x, c2y) = centres[0]
        prompts = [
            dict(type="points", frame=0, object=1, points=[[c1x, c1y]], labels=[1]),
            dict(type="box", frame=0, object=2, box=[c2x - 11, c2y - 11, c2x + 11, c2y + 11]),
            dict(type="propagate", start=None, reverse=False),
        ][: None if full else 3] + [
            dict(type="points", frame=5, object=1, points=[[centres[5][0][0] + 6, centres[5][0][1]]], labels=[0],
                 clear_old_points=False),
            dict(type="mask", frame=4, object=3, center=centres[4][0], radius=8),
            dict(type="propagate", start=None, reverse=False),
            dict(type="propagate", start=len(centres) - 1, reverse=True),
        ][: None if full else 0]
        for p in prompts:
            if p["type"] == "points":
                frame, ids, masks = predictor.add_new_points_or_box(state, p["frame"], p["object"], points=p["points"],
                                                                    labels=p["labels"],
                                                                    clear_old_points=p.get("clear_old_points", True))
                events.append(dict(p, key=record("points", frame, ids, masks, state)[0]))
            elif p["type"] == "box":
                frame, ids, masks = predictor.add_new_points_or_box(state, p["frame"], p["object"], box=p["box"])
                events.append(dict(p, key=record("box", frame, ids, masks, state)[0]))
            elif p["type"] == "mask":
                cx, cy = p["center"]
                yy, xx = np.mgrid[0:height, 0:width]
                mask = ((xx - cx) ** 2 + (yy - cy) ** 2 < p["radius"] ** 2)
                tensors[f"{len(events):02d}_mask_input"] = torch.from_numpy(mask.astype(np.float32))
                frame, ids, masks = predictor.add_new_mask(state, p["frame"], p["object"], mask)
                events.append(dict(type="mask", frame=frame, object=p["object"], mask=f"{len(events):02d}_mask_input",
                                   key=record("mask", frame, ids, masks, state)[0]))
            else:
                keys = []
                for frame, ids, masks in predictor.propagate_in_video(state, start_frame_idx=p["start"], reverse=p["reverse"]):
                    key, scores = record("propagate", frame, ids, masks, state)
                    reason = check(key, scores, masks)
                    if reason:
                        return None, reason
                    keys.append(key)
                    events.append(dict(type="frame", frame=frame, key=key))
                events.append(dict(type="propagated", start=p["start"], reverse=p["reverse"], frames=len(keys)))
    return (events, tensors), None


def main():
    torch.set_num_threads(2)
    os.makedirs(OUT, exist_ok=True)
    for seed in range(30):
        tmp = tempfile.mkdtemp()
        try:
            centres = make_clip(tmp, seed)
            results, failure = {}, None
            for version in ("2.1", "2.0"):
                results[version], failure = run_session(small_model(version), tmp, centres)
                if failure:
                    break
            if failure:
                print(f"clip seed {seed} rejected ({failure})")
                continue
            frames = os.path.join(OUT, "frames")
            shutil.rmtree(frames, ignore_errors=True)
            shutil.copytree(tmp, frames)
            for version, (events, tensors) in results.items():
                save_file(dict(sorted(tensors.items())), os.path.join(OUT, f"{version}_session.safetensors"),
                          metadata={"session": json.dumps({"width": W, "height": H, "events": events})})
            print(f"clip seed {seed}")
            return
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    raise SystemExit("no non-degenerate clip found")


if __name__ == "__main__":
    main()
