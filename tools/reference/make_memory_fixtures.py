"""Writes the memory-module parity fixture (Tests/SAM2Tests/Fixtures/model/2.1_memory.safetensors).

The memory encoder and the memory attention of the committed small SAM 2.1 checkpoint
(make_model_fixtures.py) run by the reference on random inputs: the encoder on image features and
mask logits (with and without the sigmoid), the attention on a frame's tokens against a memory of
two frames plus object-pointer tokens (so that RoPE's key repeat and the pointer exclusion are
exercised). Inputs and outputs are stored batch-first ([B, L, C]).

    tools/reference/.venv/bin/python tools/reference/make_memory_fixtures.py
"""
import os
import sys

import torch
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import random_checkpoint as rc  # noqa: E402
import small_config as sc  # noqa: E402

OUT = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "model")


def main():
    model = rc.build_model("sam2.1_hiera_t", sc.hydra_overrides())
    model.load_state_dict(torch.load(os.path.join(OUT, "small_2.1.pt"), map_location="cpu", weights_only=True)["model"])
    gen = torch.Generator().manual_seed(5)
    side = sc.IMAGE_SIZE // 16
    c, mem = sc.D_MODEL, sc.MEM_DIM
    pix = torch.randn(1, c, side, side, generator=gen)
    masks = 4 * torch.randn(1, 1, sc.IMAGE_SIZE, sc.IMAGE_SIZE, generator=gen)
    probs = torch.rand(1, 1, sc.IMAGE_SIZE, sc.IMAGE_SIZE, generator=gen)
    out = {"pix_feat": pix, "mask_logits": masks, "mask_probs": probs}
    with torch.no_grad():
        enc = model.memory_encoder(pix, masks)
        out["encoder_features"] = enc["vision_features"]
        out["encoder_pos"] = enc["vision_pos_enc"][0]
        out["encoder_features_probs"] = model.memory_encoder(pix, probs, skip_mask_sigmoid=True)["vision_features"]

        tokens = side * side
        pointers = 4  # two object pointers of width C split into C / mem tokens each
        curr = torch.randn(tokens, 1, c, generator=gen)
        curr_pos = torch.randn(tokens, 1, c, generator=gen)
        memory = torch.randn(2 * tokens + pointers, 1, mem, generator=gen)
        memory_pos = torch.randn(2 * tokens + pointers, 1, mem, generator=gen)
        attended = model.memory_attention(curr=[curr], curr_pos=[curr_pos], memory=memory, memory_pos=memory_pos,
                                          num_obj_ptr_tokens=pointers)
    first = lambda t: t.transpose(0, 1).contiguous()  # noqa: E731  seq-first → batch-first
    out.update(curr=first(curr), curr_pos=first(curr_pos), memory=first(memory), memory_pos=first(memory_pos),
               attention_output=first(attended))
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(OUT, "2.1_memory.safetensors"),
              metadata={"num_obj_ptr_tokens": str(pointers)})


if __name__ == "__main__":
    main()
