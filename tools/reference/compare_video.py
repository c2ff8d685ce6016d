"""Video tracking speed and memory of swift-sam2 against the reference, in one run, as ratios.

    tools/reference/.venv/bin/python tools/reference/compare_video.py --checkpoint CKPT
        [--frames 4 12] [--rss-frames 300] [--rss-objects 2] [--threads 2] [--sam2 RELEASE_BINARY]
        [--precisions fp32,bf16,int8] [--rounds 2]

Both track two objects (a click and a box on frame 0) through clips of moving discs (640×480 JPEG
frames, make_video_fixtures.make_clip). Per frame and object = the difference in wall-clock time
between the two clip lengths, divided by the extra frames and the objects (so model loading and
the prompts cancel out); ours in each of --precisions, the reference in fp32, each command run
--rounds times, interleaved, the fastest run counting. Peak RSS is measured on a --rss-frames clip
(0 skips it) tracking --rss-objects objects (1: the click alone, which halves the time of a long
clip): the reference holds every frame resized to the model's input in memory; we decode frames as
they are needed.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import make_video_fixtures as mv  # noqa: E402
import measure  # noqa: E402

WIDTH, HEIGHT = 640, 480

REFERENCE = r'''
import sys, torch
sys.path.insert(0, {here!r})
import random_checkpoint as rc
from sam2.build_sam import build_sam2_video_predictor
torch.set_num_threads({threads})
predictor = build_sam2_video_predictor(rc.CONFIG_FILES[{config!r}], {checkpoint!r}, device="cpu")
with torch.inference_mode():
    state = predictor.init_state({frames!r})
    predictor.add_new_points_or_box(state, 0, 1, points=[{point}], labels=[1])
    if {objects} > 1:
        predictor.add_new_points_or_box(state, 0, 2, box={box})
    for _ in predictor.propagate_in_video(state):
        pass
'''


def clip(directory, frames):
    centres = mv.make_clip(directory, seed=3, width=WIDTH, height=HEIGHT, frames=frames)
    (c1x, c1y), (c2x, c2y) = centres[0]
    k = WIDTH / mv.W
    return [c1x, c1y], [c2x - 11 * k, c2y - 11 * k, c2x + 11 * k, c2y + 11 * k]


def commands(sam2, checkpoint, config, threads, tmp, frames, objects=2, precision="fp32"):
    directory = os.path.join(tmp, f"clip{frames}")
    os.makedirs(directory, exist_ok=True)
    point, box = clip(directory, frames)
    prompts = os.path.join(tmp, f"prompts{frames}.json")
    with open(prompts, "w") as f:
        json.dump([{"frame": 0, "object": 1, "points": [point], "labels": [1]}, {"frame": 0, "object": 2, "box": box}][:objects], f)
    ours = [sam2, "track", directory, "--checkpoint", checkpoint, "--prompts", prompts,
            "--output", os.path.join(tmp, f"out{frames}"), "--threads", str(threads), "--precision", precision, "--quiet"]
    script = REFERENCE.format(here=HERE, threads=threads, config=config, checkpoint=checkpoint, frames=directory,
                              point=point, box=box, objects=objects)
    ref = [sys.executable, "-c", script]
    return ours, ref


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--frames", type=int, nargs=2, default=[4, 12])
    parser.add_argument("--rss-frames", type=int, default=300)
    parser.add_argument("--rss-objects", type=int, choices=[1, 2], default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sam2", default=None)
    parser.add_argument("--precisions", default="fp32,bf16", help="ours: comma-separated fp32, bf16, int8")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each command (the fastest counts)")
    args = parser.parse_args()
    sam2 = measure.release_sam2(args.sam2)
    config = json.loads(subprocess.check_output([sam2, "info", args.checkpoint, "--json"]))["config"]
    with tempfile.TemporaryDirectory() as tmp:
        (n1, n2) = args.frames
        precisions = args.precisions.split(",")
        # Every command runs once a round, the reference and ours interleaved (the order reversed
        # every other round), so that a slow stretch of a shared machine hits both; the fastest
        # run of each command counts.
        jobs = [("reference", 1, "fp32")] + [(p, 0, p) for p in precisions]
        best = {}
        for r in range(args.rounds):
            for name, side, precision in (jobs if r % 2 == 0 else jobs[::-1]):
                for frames in (n1, n2):
                    cmd = commands(sam2, args.checkpoint, config, args.threads, tmp, frames, precision=precision)[side]
                    best[name, frames] = min(best.get((name, frames), float("inf")), measure.wall_time(cmd))
        per_frame = {name: (best[name, n2] - best[name, n1]) / (n2 - n1) / 2 for name, _, _ in jobs}
        ref = per_frame["reference"]
        ours = {p: per_frame[p] for p in precisions}
        print(f"{config}, {args.threads} threads, {WIDTH}x{HEIGHT} frames, 2 objects")
        print(f"{'':40} {'ours':>9} {'reference':>10} {'ratio':>6}")
        for p in precisions:
            print(f"{f'propagation per frame and object, {p}':40} {ours[p]:8.3f}s {ref:9.3f}s {ours[p] / ref:6.2f}")
        if args.rss_frames:
            o, r = commands(sam2, args.checkpoint, config, args.threads, tmp, args.rss_frames, args.rss_objects)
            ours_rss, ref_rss = measure.peak_rss(o), measure.peak_rss(r)
            print(f"{f'peak RSS fp32, {args.rss_frames} frames, {args.rss_objects} obj. (MB)':40} {ours_rss:9.0f} {ref_rss:10.0f} {ours_rss / ref_rss:6.2f}")


if __name__ == "__main__":
    main()
