"""Full-size video parity: the eight official configurations track a short clip as the reference.

For each configuration: its random full-size checkpoint (architectures.py) with the object-score
head's output bias raised by 10 (random weights otherwise tend to declare every object absent, which
would make every mask constant; the modified checkpoint is written next to the outputs), an 8-frame
320×240 clip of moving discs, and the reference session of make_video_fixtures.py's first part (a
click on object 1 and a box on object 2 at frame 0, forward propagation). Then the Swift suite
FullSizeVideoParityTests replays it in a release build and prints the worst figures per configuration.

    tools/reference/.venv/bin/python tools/reference/video_parity_full.py [--configs sam2.1_hiera_t ...]
"""
import json
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_video_fixtures as mv  # noqa: E402
import measure  # noqa: E402
import random_checkpoint as rc  # noqa: E402

OUT = os.path.join(HERE, "fullsize")
WIDTH, HEIGHT, FRAMES = 320, 240, 8
PRESENCE_BIAS = "sam_mask_decoder.pred_obj_score_head.layers.2.bias"


def reference_session(config, checkpoint, directory):
    frames = os.path.join(directory, "frames")
    os.makedirs(frames, exist_ok=True)
    centres = mv.make_clip(frames, seed=3, width=WIDTH, height=HEIGHT, frames=FRAMES)
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]
    state[PRESENCE_BIAS] = state[PRESENCE_BIAS] + 10
    video_checkpoint = os.path.join(directory, "video_model.pt")
    torch.save({"model": state}, video_checkpoint)
    predictor = rc.build_model(config, video=True)
    predictor.load_state_dict(state)
    # Random full-size weights give coarse masks, often covering the whole frame: only presence is
    # required here (the logits are compared as numbers, not just their signs).
    result, failure = mv.run_session(predictor, frames, centres, WIDTH, HEIGHT, full=False, coverage=(0, 1))
    if failure:
        raise SystemExit(f"{config}: degenerate session ({failure})")
    events, tensors = result
    save_file(dict(sorted(tensors.items())), os.path.join(directory, "video_session.safetensors"),
              metadata={"session": json.dumps({"width": WIDTH, "height": HEIGHT, "events": events})})


def main():
    measure.full_size_parity(__doc__, OUT, "video_session.safetensors", reference_session, "FullSizeVideoParityTests")


if __name__ == "__main__":
    main()
