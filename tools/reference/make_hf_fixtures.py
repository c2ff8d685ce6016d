"""Hugging Face `transformers` layout fixtures, written by transformers' own SAM 2 conversion code.

    python make_hf_fixtures.py fixtures          # small_2.1_hf.safetensors + architectures/hf_<config>.json
    python make_hf_fixtures.py convert IN.pt OUT.safetensors [--config sam2.1_hiera_t]

  Tests/SAM2Tests/Fixtures/model/small_2.1_hf.safetensors
      the committed small SAM 2.1 checkpoint (small_2.1.pt) converted to the layout of the
      `facebook/sam2.1-hiera-*` repositories: keys renamed and point embeddings stacked by the
      converter's `replace_keys`, loaded strictly into `Sam2VideoModel` (a config matching
      small_config.py) and written by `save_pretrained` (model.safetensors).
  Tests/SAM2Tests/Fixtures/architectures/hf_<config>.json
      key → shape lists of the eight official architectures in that layout (the random
      full-size checkpoints of tools/reference/checkpoints converted the same way).

The converter script (`convert_sam2_video_to_hf.py`, the one that produced the hub's SAM 2 files)
is not shipped in the transformers wheel or sdist. Point `--converter` (or $SAM2_HF_CONVERTER) at a
copy from the transformers repository:
    https://github.com/huggingface/transformers/blob/main/src/transformers/models/sam2_video/convert_sam2_video_to_hf.py
The default is tools/reference/.venv/hf/convert_sam2_video_to_hf.py (outside git). Its
`get_config` and `replace_keys` are used as they are; only the modules it imports for downloading
its demo image are stubbed when absent.
"""
import argparse
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import types

import torch
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import small_config as sc  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures")
DEFAULT_CONVERTER = os.path.join(HERE, ".venv", "hf", "convert_sam2_video_to_hf.py")
# Our config names → the converter's model names.
SIZES = {"t": "tiny", "s": "small", "b+": "base_plus", "l": "large"}


def load_converter(path):
    for name in ("httpx", "requests"):  # used only to download the converter's demo image
        try:
            __import__(name)
        except ImportError:
            sys.modules[name] = types.ModuleType(name)
    spec = importlib.util.spec_from_file_location("convert_sam2_video_to_hf", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # Its get_config passes tuples where transformers >= 5 validates lists.
    hiera = module.Sam2HieraDetConfig
    module.Sam2HieraDetConfig = lambda **kw: hiera(**{k: list(v) if isinstance(v, tuple) else v for k, v in kw.items()})
    return module


def converter_name(config):
    prefix, size = config.split("_hiera_")
    return f"{prefix}_hiera_{SIZES[size]}"


def small_hf_config(conv):
    """A Sam2VideoConfig with the small test configuration's sizes (small_config.py)."""
    from transformers import Sam2HieraDetConfig, Sam2VisionConfig
    t = sc.TRUNK
    dims = [t["embed_dim"] * 2 ** i for i in range(4)]
    heads = [t["num_heads"] * 2 ** i for i in range(4)]
    s = sc.IMAGE_SIZE
    backbone = Sam2HieraDetConfig(
        hidden_size=t["embed_dim"], num_attention_heads=t["num_heads"], image_size=[s, s],
        blocks_per_stage=t["stages"], embed_dim_per_stage=dims, num_attention_heads_per_stage=heads,
        window_size_per_stage=t["window_spec"], global_attention_blocks=t["global_att_blocks"],
        window_positional_embedding_background_size=t["window_pos_embed_bkg_spatial_size"])
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=dims[::-1],
                              backbone_feature_sizes=[[s // 4] * 2, [s // 8] * 2, [s // 16] * 2],
                              fpn_hidden_size=sc.D_MODEL)
    feat = s // 16
    return conv.Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=conv.Sam2VideoPromptEncoderConfig(hidden_size=sc.D_MODEL, image_size=s, patch_size=16),
        mask_decoder_config=conv.Sam2VideoMaskDecoderConfig(hidden_size=sc.D_MODEL),
        image_size=s,
        memory_attention_hidden_size=sc.D_MODEL, memory_attention_num_layers=sc.MEM_LAYERS,
        memory_attention_feed_forward_hidden_size=sc.MEM_FFN, memory_attention_rope_feat_sizes=[feat, feat],
        memory_encoder_hidden_size=sc.D_MODEL, memory_encoder_output_channels=sc.MEM_DIM,
        mask_downsampler_embed_dim=sc.D_MODEL, memory_fuser_embed_dim=sc.D_MODEL,
        memory_fuser_intermediate_dim=4 * sc.D_MODEL,
        enable_temporal_pos_encoding_for_object_pointers=True, enable_occlusion_spatial_embedding=True)


def convert(conv, checkpoint, hf_config, out_path):
    """Official .pt → HF model.safetensors at out_path, as the converter + save_pretrained do.

    transformers hard-codes the memory attention's key/value width to 64 (the official memory
    dim), so the small configuration (memory dim 16) cannot be loaded into Sam2VideoModel: there
    the key names are checked against the model and the renamed state dict is written as it is
    (what save_pretrained writes for the official sizes, which is checked below)."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state = state.get("model", state)
    renamed = conv.replace_keys(dict(state), hf_config)
    model = conv.Sam2VideoModel(hf_config).eval()
    expected = model.state_dict()
    if set(expected) != set(renamed):
        raise SystemExit(f"key mismatch: {sorted(set(expected) ^ set(renamed))[:5]}")
    misshaped = [k for k in renamed if renamed[k].shape != expected[k].shape]
    if misshaped:
        if any(".cross_attn_image.k_proj." not in k and ".cross_attn_image.v_proj." not in k for k in misshaped):
            raise SystemExit(f"shape mismatch: {misshaped[:5]}")
        save_file({k: v.clone().contiguous() for k, v in renamed.items()}, out_path, metadata={"format": "pt"})
        os.chmod(out_path, 0o644)
        return
    model.load_state_dict(renamed, strict=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.move(os.path.join(tmp, "model.safetensors"), out_path)
    os.chmod(out_path, 0o644)
    if set(shapes_of(out_path)) != set(renamed):
        raise SystemExit("save_pretrained wrote other keys than the converter's state dict")


def shapes_of(path):
    with safe_open(path, "pt") as f:
        return {k: list(f.get_slice(k).get_shape()) for k in f.keys()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--converter", default=os.environ.get("SAM2_HF_CONVERTER", DEFAULT_CONVERTER))
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixtures")
    p = sub.add_parser("convert"); p.add_argument("input"); p.add_argument("output")
    p.add_argument("--config", default="sam2.1_hiera_t")
    args = parser.parse_args()
    conv = load_converter(args.converter)

    if args.command == "convert":
        convert(conv, args.input, conv.get_config(converter_name(args.config)), args.output)
        return
    model_dir = os.path.join(FIXTURES, "model")
    out = os.path.join(model_dir, "small_2.1_hf.safetensors")
    convert(conv, os.path.join(model_dir, "small_2.1.pt"), small_hf_config(conv), out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    checkpoints = os.path.join(HERE, "checkpoints")
    for config in sorted(f"{p}_hiera_{s}" for p in ("sam2", "sam2.1") for s in SIZES):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.safetensors")
            convert(conv, os.path.join(checkpoints, f"{config}.pt"), conv.get_config(converter_name(config)), path)
            shapes = shapes_of(path)
        doc = {"config": config, "shapes": shapes, "values": sum(int(torch.Size(s).numel()) for s in shapes.values())}
        target = os.path.join(FIXTURES, "architectures", f"hf_{config}.json")
        with open(target, "w") as f:
            json.dump(doc, f, separators=(",", ":"), sort_keys=True)
        print(f"wrote {target} ({len(shapes)} tensors)")


if __name__ == "__main__":
    main()
