"""Full-size parity: all eight official configurations against the reference, worst figures.

Builds (when missing) the random full-size checkpoints (architectures.py) and, per configuration,
reference outputs on a 900×600 image for point, box, box+points and mask prompts, written as
fixtures in the same format as the committed small ones (make_model_fixtures.py); then runs the
Swift test suite FullSizeParityTests on them in a release build, which prints one line of worst
figures per configuration and fails beyond SPEC §4's tolerances.

    tools/reference/.venv/bin/python tools/reference/parity_full.py [--configs sam2.1_hiera_t ...]
"""
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_model_fixtures as mf  # noqa: E402
import measure  # noqa: E402
import random_checkpoint as rc  # noqa: E402

OUT = os.path.join(HERE, "fullsize")
PROMPTS = ("point", "box", "box_points", "mask_point")
WIDTH, HEIGHT = 900, 600


def reference_fixtures(config, checkpoint, directory):
    from sam2.sam2_image_predictor import SAM2ImagePredictor

    model = rc.build_model(config)
    model.load_state_dict(torch.load(checkpoint, map_location="cpu", weights_only=True)["model"])
    predictor = SAM2ImagePredictor(model)
    os.makedirs(directory, exist_ok=True)
    img = mf.make_image("full", WIDTH, HEIGHT, seed=7)
    Image.fromarray(img).save(os.path.join(directory, "image.png"))
    with torch.no_grad():
        predictor.set_image(img)
    feats = {"image_embed": predictor._features["image_embed"]}
    for k, t in enumerate(predictor._features["high_res_feats"]):
        feats[f"high_res_{k}"] = t
    save_file({k: v.contiguous() for k, v in feats.items()}, os.path.join(directory, "image.safetensors"),
              metadata={"json": json.dumps({"width": WIDTH, "height": HEIGHT})})
    cases = mf.prompt_cases(WIDTH, HEIGHT)
    results = {name: mf.run_prompt(predictor, model, cases[name]) for name in ("point", "box", "box_points")}
    best = results["point"]["low_res"][np.argmax(results["point"]["scores"])][None]
    cases["mask_point"] = dict(point_coords=np.array([[0.45 * WIDTH, 0.5 * HEIGHT]]), point_labels=np.array([1]),
                               multimask_output=False)
    results["mask_point"] = mf.run_prompt(predictor, model, cases["mask_point"], mask_input=best)
    cases["mask_point"]["mask_input"] = best
    for name in PROMPTS:
        mf.save_prompt_case(os.path.join(directory, f"{name}.safetensors"), cases[name], results[name], WIDTH, HEIGHT)


def reference_outputs(config, checkpoint, directory):
    reference_fixtures(config, checkpoint, directory)
    with open(os.path.join(directory, "checkpoint"), "w") as f:
        f.write(checkpoint)


def main():
    measure.full_size_parity(__doc__, OUT, "mask_point.safetensors", reference_outputs, "FullSizeParityTests")


if __name__ == "__main__":
    main()
