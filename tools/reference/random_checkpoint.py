"""Random checkpoints of the exact SAM 2 / SAM 2.1 architectures, written by the reference code.

Real pretrained weights cannot be downloaded where we build and test, so parity is shown on
checkpoints whose every tensor is drawn at random (SPEC §4): no zeros, no ones, layer scales and
embeddings included, so that no path of the network is silently inert. The model is built by the
official `sam2` package (its Hydra configs), so the key names and shapes are the official ones, and
the file is written as the official release writes it: torch.save({"model": state_dict}).

    python random_checkpoint.py sam2.1_hiera_t out.pt [--seed 0]
"""
import argparse
import math
import os

import torch

CONFIG_FILES = {
    f"{prefix}_hiera_{size}": f"configs/{folder}/{prefix}_hiera_{size}.yaml"
    for prefix, folder in (("sam2", "sam2"), ("sam2.1", "sam2.1"))
    for size in ("t", "s", "b+", "l")
}

# Module types whose 1-D `weight` is a normalisation scale (drawn around 1, not around 0).
_NORM_TYPES = ("LayerNorm", "LayerNorm2d", "GroupNorm", "BatchNorm2d")


def build_model(config_name, overrides=(), video=False):
    """The reference model for an official config name, on the CPU, in eval mode."""
    from sam2.build_sam import build_sam2, build_sam2_video_predictor

    build = build_sam2_video_predictor if video else build_sam2
    return build(CONFIG_FILES[config_name], None, device="cpu", hydra_overrides_extra=list(overrides))


def randomize_(model, seed=0):
    """Draws every floating tensor of the state dict at random, in place, deterministically."""
    gen = torch.Generator().manual_seed(seed)
    kinds = {}
    for mod_name, mod in model.named_modules():
        for pname, _ in mod.named_parameters(recurse=False):
            kinds[f"{mod_name}.{pname}" if mod_name else pname] = (type(mod).__name__, pname)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            shape = tensor.shape
            module_type, pname = kinds.get(name, ("buffer", name))
            if pname == "weight" and module_type in _NORM_TYPES:
                value = 1.0 + 0.2 * torch.randn(shape, generator=gen)
            elif pname == "bias":
                value = 0.2 * torch.randn(shape, generator=gen)
            elif pname == "gamma":  # CXBlock layer scale: 1e-6 in the reference's init
                value = 0.5 + 0.3 * torch.rand(shape, generator=gen)
            elif pname == "weight" and module_type in ("Linear", "Conv2d", "ConvTranspose2d"):
                value = torch.randn(shape, generator=gen) / math.sqrt(tensor[0].numel())
            elif module_type == "Embedding":
                value = torch.randn(shape, generator=gen)
            else:  # position and temporal encodings, no-memory / no-object vectors, buffers
                value = 0.5 * torch.randn(shape, generator=gen)
            # No exact zeros or ones anywhere.
            value = torch.where((value == 0) | (value == 1), value + 1e-3, value)
            tensor.copy_(value)
    return model


def write_checkpoint(model, path):
    """Writes {"model": state_dict} atomically, as the official release files are written."""
    tmp = f"{path}.tmp"
    torch.save({"model": model.state_dict()}, tmp)
    os.replace(tmp, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("config", choices=sorted(CONFIG_FILES))
    parser.add_argument("output")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    model = randomize_(build_model(args.config), args.seed)
    write_checkpoint(model, args.output)
    total = sum(t.numel() for t in model.state_dict().values())
    print(f"{args.output}: {args.config}, {len(model.state_dict())} tensors, {total} values")


if __name__ == "__main__":
    main()
