#!/usr/bin/env python3
"""Live tracking figures (issue 14), through the built `sam2` binary on standard input:

  rss      peak RSS of `sam2 track -` over 100 and 1000 piped frames (it should stay flat: the stream
           keeps only the frames its memory reads);
  objects  time per frame with 1, 4 and 16 objects (boxes on a grid): two runs of 4 and 24 frames
           (--frames SHORT LONG), the difference over the 20 frames between.

    tools/reference/.venv/bin/python tools/reliability/live_video.py rss --checkpoint CKPT
    tools/reference/.venv/bin/python tools/reliability/live_video.py objects --checkpoint CKPT [--precision bf16]

The memory of a 1000-frame stream does not depend on the network's size, so the rss run may use the small
test model (--checkpoint Tests/SAM2Tests/Fixtures/model/small_2.1.pt --config …/small_2.1.json) to finish fast.

Frames are 640×480 JPEGs of a moving pattern, written under .build/live/ (not committed).
"""
import argparse
import io
import json
import os
import pathlib
import time

import numpy as np
from PIL import Image

import measured

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / ".build" / "live"


def frames(count, width=640, height=480):
    """A stream of JPEG frames: a bright disc moving over a gradient."""
    y, x = np.mgrid[0:height, 0:width]
    data = bytearray()
    for t in range(count):
        cx, cy = width / 2 + 150 * np.cos(t / 20), height / 2 + 100 * np.sin(t / 20)
        disc = (x - cx) ** 2 + (y - cy) ** 2 < 60 ** 2
        image = np.stack([(x * 255 // width), (y * 255 // height), np.where(disc, 240, 30)], -1).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(image).save(buffer, format="JPEG", quality=85)
        data += buffer.getvalue()
    return bytes(data)


def run(argv, stdin):
    """Runs argv with a file on standard input: (its stdout, peak RSS MB, seconds)."""
    out, err = OUT / f"stdout.{os.getpid()}", OUT / f"stderr.{os.getpid()}"  # two runs may share OUT
    code, rss, seconds = measured.run(argv, stdin=stdin, stdout=out, stderr=err)
    if code != 0:
        raise SystemExit(f"{argv}: {err.read_text()}")
    return out.read_text(), rss, seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["rss", "objects"])
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "sam2"))
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", default=None, help="passed on as --config when given (e.g. a small fixture's)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--frames", type=int, nargs=2, default=[4, 24], metavar=("SHORT", "LONG"),
                        help="objects: the two runs' lengths; the time per frame is their difference over LONG-SHORT")
    parser.add_argument("--precision", default=None, help="passed on as --precision when given")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    base = [args.binary, "track", "-", "--checkpoint", args.checkpoint, "--threads", str(args.threads), "--json"]
    if args.precision:
        base += ["--precision", args.precision]
    if args.config:
        base += ["--config", args.config]

    def prompts(n):
        side = int(np.ceil(np.sqrt(n)))
        entries = [{"frame": 0, "object": k + 1,
                    "box": [40 + (k % side) * 560 // side, 40 + (k // side) * 400 // side,
                            40 + (k % side + 1) * 560 // side - 10, 40 + (k // side + 1) * 400 // side - 10]}
                   for k in range(n)]
        path = OUT / f"prompts_{n}.json"
        path.write_text(json.dumps(entries))
        return str(path)

    if args.what == "rss":
        print("| frames piped | peak RSS MB | seconds |\n|---|---|---|")
        for count in [100, 1000]:
            stream = OUT / f"frames_{count}.mjpeg"
            if not stream.exists():
                stream.write_bytes(frames(count))
            _, rss, seconds = run(base + ["--prompts", prompts(1), "--output", str(OUT / "out_rss")], stream)
            print(f"| {count} | {rss:.0f} | {seconds:.0f} |", flush=True)
    else:
        count_short, count_long = args.frames
        short, long = OUT / f"frames_{count_short}.mjpeg", OUT / f"frames_{count_long}.mjpeg"
        short.write_bytes(frames(count_short))
        long.write_bytes(frames(count_long))
        print("| objects | ms per frame | ms per frame and object | frames per second |\n|---|---|---|---|")
        for n in [1, 4, 16]:
            argv = base + ["--prompts", prompts(n), "--output", str(OUT / f"out_{n}"), "--per-object"]
            # The frames after the first SHORT: the difference of two runs (model load, first frames cancel).
            _, _, t_short = run(argv, short)
            _, _, t_long = run(argv, long)
            per_frame = (t_long - t_short) / (count_long - count_short) * 1000
            print(f"| {n} | {per_frame:.0f} | {per_frame / n:.0f} | {1000 / per_frame:.2f} |", flush=True)


if __name__ == "__main__":
    main()
