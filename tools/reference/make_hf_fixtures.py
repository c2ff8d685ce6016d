"""Hugging Face `transformers` layout fixtures: official SAM 2 checkpoints renamed to the key layout
of the `facebook/sam2.1-hiera-*` repositories, checked against transformers' own SAM 2 model.

    python make_hf_fixtures.py fixtures          # small_2.1_hf.safetensors + architectures/hf_<config>.json
    python make_hf_fixtures.py convert IN.pt OUT.safetensors [--config sam2.1_hiera_t]

  Tests/SAM2Tests/Fixtures/model/small_2.1_hf.safetensors
      the committed small SAM 2.1 checkpoint (small_2.1.pt) in the HF layout: keys renamed by
      RULES below, point embeddings stacked, the prompt position matrix stored twice; the key set
      is checked against `Sam2VideoModel` built with small_config.py's sizes (see `convert`).
  Tests/SAM2Tests/Fixtures/architectures/hf_<config>.json
      key → shape lists of the eight official architectures in that layout: the random full-size
      checkpoints of tools/reference/checkpoints (architectures.py checkpoints) converted, loaded
      strictly into `Sam2VideoModel` (the model the hub files were written from, memory tensors
      included) and written by its `save_pretrained`.

Everything here is our own: the key mapping (RULES, the inverse of the table in
Sources/SAM2/Configuration/HuggingFaceLayout.swift) and the transformers configurations
(`hf_config`). transformers (pinned in setup_env.sh) supplies only the model classes that check them.
"""
import argparse
import json
import os
import re
import shutil
import sys
import tempfile

import torch
from safetensors import safe_open
from safetensors.torch import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import small_config as sc  # noqa: E402

FIXTURES = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures")

# ---------------------------------------------------------------------------------------------
# Key mapping: official name → HF name.
#
# Each rule is (official regex, HF template, renames). The regex must match the whole key; in the
# template `{1}`, `{2}`, … are its groups, each passed through `renames` (segment → HF segment)
# when listed there. `W` matches weight or bias, `N` a number.
W, N = r"(weight|bias)", r"(\d+)"
ATTN = r"(q_proj|k_proj|v_proj|out_proj)"
ATTN_NAMES = {"out_proj": "o_proj"}
RULES = [
    # Image encoder: Hiera trunk and FPN neck.
    (rf"image_encoder\.trunk\.patch_embed\.proj\.{W}", "vision_encoder.backbone.patch_embed.projection.{1}", {}),
    (r"image_encoder\.trunk\.(pos_embed|pos_embed_window)", "vision_encoder.backbone.{1}", {}),
    (rf"image_encoder\.trunk\.blocks\.{N}\.(norm1|norm2|proj)\.{W}", "vision_encoder.backbone.blocks.{1}.{2}.{3}",
     {"norm1": "layer_norm1", "norm2": "layer_norm2"}),
    (rf"image_encoder\.trunk\.blocks\.{N}\.attn\.(qkv|proj)\.{W}", "vision_encoder.backbone.blocks.{1}.attn.{2}.{3}", {}),
    (rf"image_encoder\.neck\.convs\.{N}\.conv\.{W}", "vision_encoder.neck.convs.{1}.{2}", {}),
    # Prompt encoder (point embeddings and the position matrix: see `to_hf`).
    (r"sam_prompt_encoder\.(not_a_point_embed|no_mask_embed)\.weight", "prompt_encoder.{1}.weight", {}),
    (rf"sam_prompt_encoder\.mask_downscaling\.([01346])\.{W}", "prompt_encoder.mask_embed.{1}.{2}",
     {"0": "conv1", "1": "layer_norm1", "3": "conv2", "4": "layer_norm2", "6": "conv3"}),
    # Mask decoder.
    (r"sam_mask_decoder\.(iou_token|mask_tokens|obj_score_token)\.weight", "mask_decoder.{1}.weight", {}),
    (rf"sam_mask_decoder\.(conv_s0|conv_s1)\.{W}", "mask_decoder.{1}.{2}", {}),
    (rf"sam_mask_decoder\.output_upscaling\.([013])\.{W}", "mask_decoder.{1}.{2}",
     {"0": "upscale_conv1", "1": "upscale_layer_norm", "3": "upscale_conv2"}),
    (rf"sam_mask_decoder\.transformer\.layers\.{N}\.(self_attn|cross_attn_token_to_image|cross_attn_image_to_token)\.{ATTN}\.{W}",
     "mask_decoder.transformer.layers.{1}.{2}.{3}.{4}", ATTN_NAMES),
    (rf"sam_mask_decoder\.transformer\.final_attn_token_to_image\.{ATTN}\.{W}",
     "mask_decoder.transformer.final_attn_token_to_image.{1}.{2}", ATTN_NAMES),
    (rf"sam_mask_decoder\.transformer\.layers\.{N}\.norm([1-4])\.{W}", "mask_decoder.transformer.layers.{1}.layer_norm{2}.{3}", {}),
    (rf"sam_mask_decoder\.transformer\.norm_final_attn\.{W}", "mask_decoder.transformer.layer_norm_final_attn.{1}", {}),
    # Memory attention and memory encoder.
    (rf"memory_attention\.layers\.{N}\.(self_attn|cross_attn_image)\.{ATTN}\.{W}", "memory_attention.layers.{1}.{2}.{3}.{4}", ATTN_NAMES),
    (rf"memory_attention\.layers\.{N}\.(linear1|linear2|norm1|norm2|norm3)\.{W}", "memory_attention.layers.{1}.{2}.{3}",
     {"norm1": "layer_norm1", "norm2": "layer_norm2", "norm3": "layer_norm3"}),
    (rf"memory_attention\.norm\.{W}", "memory_attention.layer_norm.{1}", {}),
    (rf"memory_encoder\.fuser\.layers\.{N}\.(dwconv|pwconv1|pwconv2|norm)\.{W}", "memory_encoder.memory_fuser.layers.{1}.{2}.{3}",
     {"dwconv": "depthwise_conv", "pwconv1": "pointwise_conv1", "pwconv2": "pointwise_conv2", "norm": "layer_norm"}),
    (rf"memory_encoder\.fuser\.layers\.{N}\.gamma", "memory_encoder.memory_fuser.layers.{1}.scale", {}),
    (rf"memory_encoder\.(out_proj|pix_feat_proj)\.{W}", "memory_encoder.{1}.{2}",
     {"out_proj": "projection", "pix_feat_proj": "feature_projection"}),
    (rf"mask_downsample\.{W}", "mask_downsample.{1}", {}),
    (rf"obj_ptr_tpos_proj\.{W}", "temporal_positional_encoding_projection_layer.{1}", {}),
    (r"(no_mem_embed|no_mem_pos_enc|no_obj_ptr|no_obj_embed_spatial|maskmem_tpos_enc)", "{1}",
     {"no_mem_embed": "no_memory_embedding", "no_mem_pos_enc": "no_memory_positional_encoding",
      "no_obj_ptr": "no_object_pointer", "no_obj_embed_spatial": "occlusion_spatial_embedding_parameter",
      "maskmem_tpos_enc": "memory_temporal_positional_encoding"}),
]
# MLPs (official scope regex, HF scope template): official `.layers.i` of k Linears become
# `proj_in` (i = 0), `proj_out` (i = k-1) and `layers.(i-1)` between; a bare Linear keeps its name.
MLPS = [
    (rf"image_encoder\.trunk\.blocks\.{N}\.mlp", "vision_encoder.backbone.blocks.{1}.mlp"),
    (rf"sam_mask_decoder\.transformer\.layers\.{N}\.mlp", "mask_decoder.transformer.layers.{1}.mlp"),
    (r"sam_mask_decoder\.iou_prediction_head", "mask_decoder.iou_prediction_head"),
    (rf"sam_mask_decoder\.output_hypernetworks_mlps\.{N}", "mask_decoder.output_hypernetworks_mlps.{1}"),
    (r"sam_mask_decoder\.pred_obj_score_head", "mask_decoder.pred_obj_score_head"),
    (r"obj_ptr_proj", "object_pointer_proj"),
]
POSITION_MATRIX = "sam_prompt_encoder.pe_layer.positional_encoding_gaussian_matrix"
POSITION_MATRIX_HF = ("prompt_encoder.shared_embedding.positional_embedding", "shared_image_embedding.positional_embedding")
POINT_EMBEDDING = re.compile(r"sam_prompt_encoder\.point_embeddings\.(\d+)\.weight")
DOWNSAMPLER = re.compile(rf"memory_encoder\.mask_downsampler\.encoder\.{N}\.{W}")


def fill(template, groups, renames):
    return template.format(None, *(renames.get(g, g) for g in groups))


def hf_name(key, counts):
    """The HF name of a renamed official key, or None. `counts`: scope → number of numbered children."""
    for pattern, template, renames in RULES:
        m = re.fullmatch(pattern, key)
        if m:
            return fill(template, m.groups(), renames)
    for scope, hf_scope in MLPS:
        m = re.fullmatch(rf"({scope})\.layers\.{N}\.{W}", key)
        if m:
            *numbers, i, param = m.groups()[1:]
            official, hf = m.group(1), fill(hf_scope, numbers, {})
            i, k = int(i), counts[official + ".layers"]
            part = "proj_in" if i == 0 else "proj_out" if i == k - 1 else f"layers.{i - 1}"
            return f"{hf}.{part}.{param}"
        m = re.fullmatch(rf"{scope}\.{W}", key)
        if m:
            return f"{fill(hf_scope, m.groups()[:-1], {})}.{m.groups()[-1]}"
    m = DOWNSAMPLER.fullmatch(key)
    if m:
        # encoder = [conv, norm, act] × L + final conv: index 3i → layers.i.conv, 3i+1 → layers.i.layer_norm.
        i, param = int(m.group(1)), m.group(2)
        last = max(counts["memory_encoder.mask_downsampler.encoder@"])
        if i == last:
            return f"memory_encoder.mask_downsampler.final_conv.{param}"
        part = {0: "conv", 1: "layer_norm"}.get(i % 3)
        return part and f"memory_encoder.mask_downsampler.layers.{i // 3}.{part}.{param}"
    return None


def to_hf(state):
    """Official state dict → HF state dict (new tensors; the position matrix copies are separate)."""
    indices = {}
    for key in state:
        parts = key.split(".")
        for j, part in enumerate(parts[1:], 1):
            if part.isdigit():
                scope = ".".join(parts[:j])
                indices.setdefault(scope, set()).add(int(part))
    counts = {scope: len(v) for scope, v in indices.items()}
    counts["memory_encoder.mask_downsampler.encoder@"] = indices.get("memory_encoder.mask_downsampler.encoder", {0})
    out, points, unknown = {}, {}, []
    for key, tensor in state.items():
        m = POINT_EMBEDDING.fullmatch(key)
        if m:
            points[int(m.group(1))] = tensor
            continue
        if key == POSITION_MATRIX:
            for name in POSITION_MATRIX_HF:
                out[name] = tensor.clone().contiguous()
            continue
        name = hf_name(key, counts)
        if name is None:
            unknown.append(key)
        elif name in out:
            raise SystemExit(f"{key}: two official keys map to {name}")
        else:
            out[name] = tensor.clone().contiguous()
    if unknown:
        raise SystemExit(f"{len(unknown)} official keys without a rule: {sorted(unknown)[:5]}")
    if points:
        if sorted(points) != list(range(len(points))) or any(t.shape[0] != 1 for t in points.values()):
            raise SystemExit("point embeddings are not rows 0..N-1 of shape [1, C]")
        out["prompt_encoder.point_embed.weight"] = torch.cat([points[i] for i in range(len(points))], 0).contiguous()
    return out


# ---------------------------------------------------------------------------------------------
# transformers configurations.

# Config suffix → (embed dim, heads, blocks per stage, global attention blocks, window sizes,
# background position grid) of the Hiera trunk (SPEC.md §1).
TRUNKS = {
    "t": (96, 1, [1, 2, 7, 2], [5, 7, 9], [8, 4, 14, 7], [7, 7]),
    "s": (96, 1, [1, 2, 11, 2], [7, 10, 13], [8, 4, 14, 7], [7, 7]),
    "b+": (112, 2, [2, 3, 16, 3], [12, 16, 20], [8, 4, 14, 7], [14, 14]),
    "l": (144, 2, [2, 6, 36, 4], [23, 33, 43], [8, 4, 16, 8], [7, 7]),
}
ALIASES = {"tiny": "sam2.1_hiera_t", "small": "sam2.1_hiera_s", "base_plus": "sam2.1_hiera_b+", "large": "sam2.1_hiera_l"}
CONFIGS = sorted(f"{p}_hiera_{s}" for p in ("sam2", "sam2.1") for s in TRUNKS)


def video_config(embed, heads, stages, global_blocks, windows, background, image_size=1024, d_model=256,
                 version="2.1", **memory):
    """A Sam2VideoConfig for a Hiera trunk and SAM heads of width d_model at image_size."""
    from transformers import (Sam2HieraDetConfig, Sam2VideoConfig, Sam2VideoMaskDecoderConfig,
                              Sam2VideoPromptEncoderConfig, Sam2VisionConfig)
    dims = [embed * 2 ** i for i in range(4)]
    backbone = Sam2HieraDetConfig(
        hidden_size=embed, num_attention_heads=heads, image_size=[image_size, image_size],
        blocks_per_stage=list(stages), embed_dim_per_stage=dims,
        num_attention_heads_per_stage=[heads * 2 ** i for i in range(4)],
        window_size_per_stage=list(windows), global_attention_blocks=list(global_blocks),
        window_positional_embedding_background_size=list(background))
    s = image_size
    vision = Sam2VisionConfig(backbone_config=backbone, backbone_channel_list=dims[::-1],
                              backbone_feature_sizes=[[s // 4] * 2, [s // 8] * 2, [s // 16] * 2],
                              fpn_hidden_size=d_model)
    v21 = version == "2.1"  # 2.1 adds the occlusion embedding and the object pointers' temporal projection
    return Sam2VideoConfig(
        vision_config=vision,
        prompt_encoder_config=Sam2VideoPromptEncoderConfig(hidden_size=d_model, image_size=s, patch_size=16),
        mask_decoder_config=Sam2VideoMaskDecoderConfig(hidden_size=d_model),
        image_size=s, memory_attention_hidden_size=d_model, memory_attention_rope_feat_sizes=[s // 16] * 2,
        memory_encoder_hidden_size=d_model, mask_downsampler_embed_dim=d_model, memory_fuser_embed_dim=d_model,
        memory_fuser_intermediate_dim=4 * d_model,
        enable_temporal_pos_encoding_for_object_pointers=v21, enable_occlusion_spatial_embedding=v21, **memory)


def hf_config(config):
    """The Sam2VideoConfig of an official config name (sam2[.1]_hiera_{t,s,b+,l} or an alias)."""
    config = ALIASES.get(config, config)
    prefix, _, size = config.partition("_hiera_")
    if prefix not in ("sam2", "sam2.1") or size not in TRUNKS:
        raise SystemExit(f"unknown config {config!r}: one of {', '.join(CONFIGS + sorted(ALIASES))}")
    return video_config(*TRUNKS[size], version="2.1" if prefix == "sam2.1" else "2.0")


def small_hf_config():
    """A Sam2VideoConfig with the small test configuration's sizes (small_config.py)."""
    t = sc.TRUNK
    return video_config(t["embed_dim"], t["num_heads"], t["stages"], t["global_att_blocks"], t["window_spec"],
                        t["window_pos_embed_bkg_spatial_size"], image_size=sc.IMAGE_SIZE, d_model=sc.D_MODEL,
                        memory_attention_num_layers=sc.MEM_LAYERS, memory_attention_feed_forward_hidden_size=sc.MEM_FFN,
                        memory_encoder_output_channels=sc.MEM_DIM)


# ---------------------------------------------------------------------------------------------

def convert(checkpoint, config, out_path):
    """Official .pt → HF model.safetensors at out_path, checked against Sam2VideoModel(config).

    Normally the converted state dict is loaded strictly into the model and written by
    save_pretrained, as the hub's files were. transformers hard-codes the memory attention's
    key/value width to 64 (the official memory dim), so the small configuration (memory dim 16)
    cannot be loaded: there the key names and all other shapes are checked against the model and
    the converted state dict is written as it is."""
    from transformers import Sam2VideoModel
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    state = to_hf(state.get("model", state))
    model = Sam2VideoModel(config).eval()
    expected = model.state_dict()
    if set(expected) != set(state):
        raise SystemExit(f"key mismatch with Sam2VideoModel: {sorted(set(expected) ^ set(state))[:5]}")
    misshaped = [k for k in state if state[k].shape != expected[k].shape]
    if misshaped:
        if any(".cross_attn_image.k_proj." not in k and ".cross_attn_image.v_proj." not in k for k in misshaped):
            raise SystemExit(f"shape mismatch with Sam2VideoModel: {misshaped[:5]}")
        save_file(state, out_path, metadata={"format": "pt"})
        os.chmod(out_path, 0o644)
        return
    model.load_state_dict(state, strict=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.move(os.path.join(tmp, "model.safetensors"), out_path)
    os.chmod(out_path, 0o644)
    if shapes_of(out_path) != {k: list(v.shape) for k, v in state.items()}:
        raise SystemExit("save_pretrained wrote other keys or shapes than the converted state dict")


def shapes_of(path):
    with safe_open(path, "pt") as f:
        return {k: list(f.get_slice(k).get_shape()) for k in f.keys()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fixtures")
    p = sub.add_parser("convert"); p.add_argument("input"); p.add_argument("output")
    p.add_argument("--config", default="sam2.1_hiera_t")
    args = parser.parse_args()

    if args.command == "convert":
        convert(args.input, hf_config(args.config), args.output)
        return
    model_dir = os.path.join(FIXTURES, "model")
    out = os.path.join(model_dir, "small_2.1_hf.safetensors")
    convert(os.path.join(model_dir, "small_2.1.pt"), small_hf_config(), out)
    print(f"wrote {out} ({os.path.getsize(out)} bytes)")
    checkpoints = os.path.join(HERE, "checkpoints")
    for config in CONFIGS:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "model.safetensors")
            convert(os.path.join(checkpoints, f"{config}.pt"), hf_config(config), path)
            shapes = shapes_of(path)
        doc = {"config": config, "shapes": shapes, "values": sum(int(torch.Size(s).numel()) for s in shapes.values())}
        target = os.path.join(FIXTURES, "architectures", f"hf_{config}.json")
        with open(target, "w") as f:
            json.dump(doc, f, separators=(",", ":"), sort_keys=True)
        print(f"wrote {target} ({len(shapes)} tensors)")


if __name__ == "__main__":
    main()
