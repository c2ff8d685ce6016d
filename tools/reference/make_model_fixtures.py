"""Writes the committed image-path parity fixtures (Tests/SAM2Tests/Fixtures/model/).

For the small configuration (small_config.py) with SAM 2.0 and SAM 2.1 heads:
  small_2.1.pt          random checkpoint in the official format (random_checkpoint.py)
  small_2.0.safetensors the same for SAM 2.0, as safetensors with the official key names
  small_<v>.json        the same configuration as our SAM2Configuration JSON
  images/<name>.png     test images: square, landscape, portrait, odd-sized, larger than 1024
  <v>_<image>.safetensors           image path: model input, trunk stages, neck levels,
                                    image embedding and high-resolution features
  <v>_<image>_<prompt>.safetensors  one prompt case: prompt encoder (sparse, dense), mask decoder
                                    (low-res masks, IoU), predictor outputs (logits at the original
                                    size, subsampled for large images; scores; low-res logits)
Metadata of each file (safetensors metadata) holds the prompt and the options as JSON.

Non-degenerate by construction: the weights' seed is searched until, for every prompt case, the
best mask covers between 3% and 97% of the image and the prompts of one image give pairwise
different masks (a prompt that does not change the result would leave its path untested).

    tools/reference/.venv/bin/python tools/reference/make_model_fixtures.py
"""
import json
import math
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_checkpoint as rc  # noqa: E402
import small_config as sc  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "model")

# name → (width, height)
IMAGES = {"square": (320, 320), "landscape": (400, 240), "portrait": (180, 300), "odd": (97, 131), "large": (1100, 640)}
# Module-level dumps for the image path on these images; the others get the embedding only.
FULL_DUMP = {"square", "odd"}
# SAM 2.0's image path is the same code with other weights: one image and a few prompts suffice.
IMAGES_2_0 = {"square"}
PROMPTS_2_0 = ("point", "box_points", "mask_point")


def make_image(name, w, h, seed):
    """Synthetic scene: a smooth background, a few coloured discs and rectangles, mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.stack([60 + 100 * xx / w, 80 + 90 * yy / h, 140 - 60 * xx / w], axis=-1)
    for _ in range(4):
        cx, cy, r = rng.uniform(0.15, 0.85) * w, rng.uniform(0.15, 0.85) * h, rng.uniform(0.08, 0.22) * min(w, h)
        disc = (xx - cx) ** 2 + (yy - cy) ** 2 < r * r
        img[disc] = rng.uniform(0, 255, 3)
    x0, y0 = int(0.1 * w), int(0.6 * h)
    img[y0:y0 + h // 5, x0:x0 + w // 3] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 2, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def prompt_cases(w, h):
    """Prompt name → kwargs of SAM2ImagePredictor.predict (pixel coordinates)."""
    p = lambda fx, fy: [fx * w, fy * h]  # noqa: E731
    box = [0.2 * w, 0.25 * h, 0.7 * w, 0.8 * h]
    return {
        "point": dict(point_coords=np.array([p(0.4, 0.45)]), point_labels=np.array([1]), multimask_output=True),
        "point_single": dict(point_coords=np.array([p(0.6, 0.3)]), point_labels=np.array([1]), multimask_output=False),
        "points_fg_bg": dict(point_coords=np.array([p(0.3, 0.6), p(0.7, 0.35)]), point_labels=np.array([1, 0]),
                             multimask_output=False),
        "box": dict(box=np.array(box), multimask_output=False),
        "box_points": dict(box=np.array(box), point_coords=np.array([p(0.5, 0.5), p(0.25, 0.7)]),
                           point_labels=np.array([1, 0]), multimask_output=True),
        "boxes": dict(box=np.array([box, [0.05 * w, 0.05 * h, 0.5 * w, 0.4 * h], [0.5 * w, 0.5 * h, 0.95 * w, 0.95 * h]]),
                      multimask_output=False),
        "normalized": dict(point_coords=np.array([[0.55, 0.6]]), point_labels=np.array([1]), multimask_output=True,
                           normalize_coords=False),
    }


def subsample_stride(h, w, budget=4096):
    return max(1, math.ceil(math.sqrt(h * w / budget)))


def tensor(x):
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32).contiguous()


def run_prompt(predictor, model, case, mask_input=None):
    """Runs one prompt through the predictor's own steps, keeping each module's output."""
    kwargs = dict(case)
    multimask = kwargs.pop("multimask_output")
    normalize = kwargs.pop("normalize_coords", True)
    coords, labels, box = kwargs.get("point_coords"), kwargs.get("point_labels"), kwargs.get("box")
    mask_in, unnorm_coords, lab, unnorm_box = predictor._prep_prompts(coords, labels, box, mask_input, normalize)
    # Prompt encoder exactly as SAM2ImagePredictor._predict calls it.
    concat = (unnorm_coords, lab) if unnorm_coords is not None else None
    if unnorm_box is not None:
        box_coords = unnorm_box.reshape(-1, 2, 2)
        box_labels = torch.tensor([[2, 3]], dtype=torch.int).repeat(unnorm_box.size(0), 1)
        concat = (torch.cat([box_coords, concat[0]], 1), torch.cat([box_labels, concat[1]], 1)) if concat else (box_coords, box_labels)
    with torch.no_grad():
        sparse, dense = model.sam_prompt_encoder(points=concat, boxes=None, masks=mask_in)
        batched = concat is not None and concat[0].shape[0] > 1
        feats = predictor._features
        low, iou, tokens, obj = model.sam_mask_decoder(
            image_embeddings=feats["image_embed"][-1].unsqueeze(0), image_pe=model.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense, multimask_output=multimask,
            repeat_image=batched, high_res_features=[f[-1].unsqueeze(0) for f in feats["high_res_feats"]])
        masks, scores, lowres = predictor.predict(point_coords=coords, point_labels=labels, box=box, mask_input=mask_input,
                                                  multimask_output=multimask, return_logits=True, normalize_coords=normalize)
    return dict(sparse=sparse, dense=dense, decoder_masks=low, decoder_iou=iou, decoder_tokens=tokens,
                decoder_object_scores=obj, logits=masks, scores=scores, low_res=lowres)


def prompt_case_tensors(case, r, w, h):
    """The tensors and metadata stored for one prompt case."""
    logits = np.asarray(r["logits"])
    stride = subsample_stride(h, w)
    meta = {
        "width": w, "height": h, "stride": stride,
        "multimask_output": case["multimask_output"],
        "normalize_coords": case.get("normalize_coords", True),
        "point_coords": np.asarray(case["point_coords"]).tolist() if "point_coords" in case else None,
        "point_labels": np.asarray(case["point_labels"]).tolist() if "point_labels" in case else None,
        "box": np.asarray(case["box"]).tolist() if "box" in case else None,
    }
    out = {k: tensor(r[k].detach().numpy() if torch.is_tensor(r[k]) else r[k])
           for k in ("sparse", "dense", "decoder_masks", "decoder_iou", "decoder_tokens", "decoder_object_scores",
                     "scores", "low_res")}
    out["logits"] = tensor(logits[..., ::stride, ::stride])
    if "mask_input" in case:
        out["mask_input"] = tensor(case["mask_input"])
    return out, meta


def save_prompt_case(path, case, r, w, h):
    out, meta = prompt_case_tensors(case, r, w, h)
    save_file({k: v.contiguous() for k, v in out.items()}, path, metadata={"json": json.dumps(meta)})


def degenerate_reason(name, logits):
    masks = np.asarray(logits).reshape((-1,) + np.asarray(logits).shape[-2:]) > 0
    for m in masks:
        frac = m.mean()
        if not 0.03 <= frac <= 0.97:
            return f"{name}: a mask covers {frac:.3f} of the image"
    return None


def generate(version, seed, write):
    overrides = sc.hydra_overrides()
    config = "sam2.1_hiera_t" if version == "2.1" else "sam2_hiera_t"
    model = rc.randomize_(rc.build_model(config, overrides), seed)
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    predictor = SAM2ImagePredictor(model)
    s = sc.IMAGE_SIZE
    predictor._bb_feat_sizes = [(s // 4, s // 4), (s // 8, s // 8), (s // 16, s // 16)]
    files = {}
    for i, (name, (w, h)) in enumerate(IMAGES.items()):
        if version == "2.0" and name not in IMAGES_2_0:
            continue
        img = make_image(name, w, h, seed=100 + i)
        files[f"images/{name}.png"] = ("png", img)
        with torch.no_grad():
            x = predictor._transforms(img)[None]
            dump = {}
            if name in FULL_DUMP:
                dump["input"] = x
                stages = model.image_encoder.trunk(x)
                for k, t in enumerate(stages):
                    dump[f"trunk_{k}"] = t
                fpn, pos = model.image_encoder.neck(stages)
                for k, t in enumerate(fpn[:-1]):
                    dump[f"neck_{k}"] = t
                dump["neck_pos_2"] = pos[2]
            predictor.set_image(img)
            dump["image_embed"] = predictor._features["image_embed"]
            for k, t in enumerate(predictor._features["high_res_feats"]):
                dump[f"high_res_{k}"] = t
        files[f"{version}_{name}.safetensors"] = ("st", dump, {"width": w, "height": h})
        seen = []
        cases = prompt_cases(w, h)
        if name not in ("square", "odd"):
            cases = {k: cases[k] for k in ("point", "box_points")}
        if version == "2.0":
            cases = {k: cases[k] for k in PROMPTS_2_0 if k in cases}
        results = {}
        for pname, case in cases.items():
            results[pname] = run_prompt(predictor, model, case)
        # Mask prompts: the best low-res logits of "point" fed back, alone and with a point.
        best = results["point"]["low_res"][np.argmax(results["point"]["scores"])][None]
        cases["mask_point"] = dict(point_coords=np.array([[0.45 * w, 0.5 * h]]), point_labels=np.array([1]),
                                   multimask_output=False, mask_input=best)
        cases["mask_only"] = dict(multimask_output=False, mask_input=best)
        for pname in ("mask_point", "mask_only"):
            if version == "2.0" and pname not in PROMPTS_2_0:
                continue
            case = dict(cases[pname])
            mask_input = case.pop("mask_input")
            results[pname] = run_prompt(predictor, model, case, mask_input=mask_input)
        cases = {k: v for k, v in cases.items() if k in results}
        for pname, r in results.items():
            reason = degenerate_reason(f"{version}/{name}/{pname}", r["logits"])
            if reason:
                return reason
            flat = (np.asarray(r["logits"]) > 0).reshape(-1)
            for other, o in seen:
                if flat.shape == o.shape and (flat == o).mean() > 0.999:
                    return f"{version}/{name}: prompts {pname} and {other} give the same masks"
            seen.append((pname, flat))
            case = cases[pname]
            out, meta = prompt_case_tensors(case, r, w, h)
            if pname in ("point", "box") and name == "square":
                out["dense"] = out["dense"][:, :, :2, :2].contiguous()  # no_mask_embed repeated: keep a corner
            files[f"{version}_{name}_{pname}.safetensors"] = ("st", out, meta)
    if write:
        os.makedirs(os.path.join(OUT, "images"), exist_ok=True)
        if version == "2.1":
            rc.write_checkpoint(model, os.path.join(OUT, "small_2.1.pt"))
        else:
            save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(OUT, "small_2.0.safetensors"))
        sc.write_swift_configuration(version, os.path.join(OUT, f"small_{version}.json"))
        for rel, item in files.items():
            path = os.path.join(OUT, rel)
            if item[0] == "png":
                if version == "2.1":
                    Image.fromarray(item[1]).save(path)
            else:
                save_file({k: v.contiguous() for k, v in item[1].items()}, path, metadata={"json": json.dumps(item[2])})
    return None


def main():
    torch.set_num_threads(2)
    for version in ("2.1", "2.0"):
        for seed in range(40):
            reason = generate(version, seed, write=False)
            if reason is None:
                generate(version, seed, write=True)
                print(f"SAM {version}: seed {seed}")
                break
            print(f"SAM {version}: seed {seed} rejected ({reason})")
        else:
            raise SystemExit(f"no non-degenerate seed found for {version}")


if __name__ == "__main__":
    main()
