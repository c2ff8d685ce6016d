"""Full-size random checkpoints of the eight official configurations, and their key lists.

    python architectures.py checkpoints [--dir DIR]   # DIR/<config>.pt for all eight (built when missing)
    python architectures.py keys OUT_DIR              # OUT_DIR/<config>.json: keys, shapes, value count
    python architectures.py table [--dir DIR]         # config, tensors and values per checkpoint (reference's numel sum)
    python architectures.py info-table --sam2 BIN     # the same next to what `sam2 info` reports, checked equal

Checkpoints go to tools/reference/checkpoints/ by default (ignored by git: ~1.5 GB for all eight).
"""
import argparse
import json
import os
import subprocess
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import random_checkpoint as rc  # noqa: E402

DEFAULT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "checkpoints")


def checkpoint_path(directory, config):
    return os.path.join(directory, f"{config}.pt")


def ensure_checkpoints(directory, configs=None, seed=0):
    """Builds the random full-size checkpoints that are missing; returns their paths by config."""
    os.makedirs(directory, exist_ok=True)
    paths = {}
    for config in configs or sorted(rc.CONFIG_FILES):
        path = checkpoint_path(directory, config)
        if not os.path.exists(path):
            print(f"building {path}", file=sys.stderr)
            rc.write_checkpoint(rc.randomize_(rc.build_model(config), seed), path)
        paths[config] = path
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("checkpoints"); p.add_argument("--dir", default=DEFAULT_DIR)
    p = sub.add_parser("keys"); p.add_argument("out_dir")
    p = sub.add_parser("table"); p.add_argument("--dir", default=DEFAULT_DIR)
    p = sub.add_parser("info-table"); p.add_argument("--dir", default=DEFAULT_DIR); p.add_argument("--sam2", required=True)
    args = parser.parse_args()
    if args.command == "checkpoints":
        ensure_checkpoints(args.dir)
    elif args.command == "keys":
        os.makedirs(args.out_dir, exist_ok=True)
        for config in sorted(rc.CONFIG_FILES):
            sd = rc.build_model(config).state_dict()
            doc = {"config": config, "values": sum(t.numel() for t in sd.values()),
                   "shapes": {k: list(t.shape) for k, t in sd.items()}}
            with open(os.path.join(args.out_dir, f"{config}.json"), "w") as f:
                json.dump(doc, f, separators=(",", ":"), sort_keys=True)
    elif args.command == "table":
        for config, path in ensure_checkpoints(args.dir).items():
            sd = torch.load(path, map_location="cpu", weights_only=True)["model"]
            print(f"{config}\t{len(sd)}\t{sum(t.numel() for t in sd.values())}")
    else:
        mismatches = 0
        print(f"{'checkpoint':22} {'sam2 info config':18} {'tensors':>8} {'sam2 info values':>17} {'reference numel':>16}")
        for config, path in ensure_checkpoints(args.dir).items():
            sd = torch.load(path, map_location="cpu", weights_only=True)["model"]
            ref_values = sum(t.numel() for t in sd.values())
            info = json.loads(subprocess.check_output([args.sam2, "info", path, "--json"]))
            ok = info["config"] == config and info["values"] == ref_values and info["tensors"] == len(sd)
            mismatches += not ok
            print(f"{config + '.pt':22} {info['config']:18} {info['tensors']:8} {info['values']:17} {ref_values:16}"
                  f"{'' if ok else '  MISMATCH'}")
        sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
