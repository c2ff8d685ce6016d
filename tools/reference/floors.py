"""This machine's floors: the least time each precision could take, as ratios to the reference fp32.

    tools/reference/.venv/bin/python tools/reference/floors.py --checkpoint CKPT [--image IMAGE]
        [--threads 2] [--repeat 3] [--kernel-bench .build/release/sam2-kernel-bench] [--sam2 BIN] [--video]

Counts the reference's arithmetic with torch's FlopCounterMode (products, convolutions and attention;
a multiply-add is two operations) for set_image and for predict (one point at the image centre,
three masks), and with --video for a frame and object of compare_video.py's clip (frames 4-11 of a
12-frame clip tracking two objects: the frames compare_video.py's difference of a 4- and a 12-frame
clip times). Times the reference fp32 on the same work in the same run, and runs
`sam2-kernel-bench --peak` for the CPU's peak in f32 FMA, bf16 and u8×s8 dot products on --threads.
A floor is that arithmetic at its instruction's peak and nothing else costing anything: no
implementation of the reference's arithmetic, in any runtime, is faster on this machine. Printed for
fp32, bf16, int8 with every product in int8, and int8 as swift-sam2 runs it (attention products in
bf16). With --sam2, ours (`sam2 bench` in each precision, same image and threads) beside its floor.
swift-sam2 does less arithmetic than the reference in two places — the mask decoder folds the image
side's projections into the prompt tokens' side, and the memory attention attends to the 64-channel
memory and projects after — so its predict and video can go below these floors; set_image cannot.
The peaks are AVX-512's (or AVX2's) instructions: on a CPU with AMX tiles, which oneDNN runs for bf16
and int8 several times faster, the bf16 and int8 floors printed here are too high.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import measure  # noqa: E402


def attention_flops(q, k, v, *args, out_shape=None, **kwargs):
    """scaled_dot_product_attention on the CPU: Q·Kᵀ and P·V, per batch and head."""
    return 2 * q[0] * q[1] * q[2] * k[2] * (q[3] + v[3])


class Counter:
    """Counts operations, split into attention and the rest (products and convolutions)."""

    def __init__(self):
        import torch
        self.attention_op = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
        self.attention, self.other = 0, 0

    def __call__(self, work):
        from torch.utils.flop_counter import FlopCounterMode
        with FlopCounterMode(display=False, custom_mapping={self.attention_op: attention_flops}) as mode:
            result = work()
        counts = mode.get_flop_counts()["Global"]
        attention = sum(n for op, n in counts.items() if "scaled_dot_product" in str(op))
        self.attention += attention
        self.other += mode.get_total_flops() - attention
        return result


def peaks(kernel_bench, threads):
    """GFLOP/s (GOP/s) of f32 FMA, bf16 dot and u8×s8 dot on `threads`, None where the CPU lacks one."""
    out = subprocess.check_output([kernel_bench, "--peak", "--threads", str(threads), "--repeat", "5"], text=True)
    found = {}
    for name, key in (("f32 FMA", "f32"), ("bf16 dot product", "bf16"), ("u8×s8 dot product", "int8")):
        m = re.search(rf"peak {re.escape(name)} \(\d+-bit\): ([0-9.]+)", out)
        found[key] = float(m.group(1)) if m else None
    return found, out


def image_work(config, checkpoint, image, threads, repeat):
    """(set_image ms, predict ms, set_image counter, predict counter) of the reference fp32."""
    import torch

    predictor, img, predict = measure.reference_image_work(config, checkpoint, image, threads)
    set_count, predict_count = Counter(), Counter()
    with torch.inference_mode():
        set_count(lambda: predictor.set_image(img))
        predict_count(predict)
        set_times, predict_times = [], []
        for _ in range(repeat):
            t = time.perf_counter(); predictor.set_image(img); set_times.append(time.perf_counter() - t)
        for _ in range(repeat):
            t = time.perf_counter(); predict(); predict_times.append(time.perf_counter() - t)
    return statistics.median(set_times) * 1000, statistics.median(predict_times) * 1000, set_count, predict_count


def video_work(config, checkpoint, threads):
    """(ms a frame and object, counter a frame and object) of the reference fp32 on frames 4-11."""
    import torch
    from sam2.build_sam import build_sam2_video_predictor
    import compare_video as cv
    import random_checkpoint as rc

    torch.set_num_threads(threads)
    predictor = build_sam2_video_predictor(rc.CONFIG_FILES[config], checkpoint, device="cpu")
    first, frames, objects = 4, 12, 2
    with tempfile.TemporaryDirectory() as tmp, torch.inference_mode():
        point, box = cv.clip(tmp, frames)

        def run(counter):
            state = predictor.init_state(tmp)
            predictor.add_new_points_or_box(state, 0, 1, points=[point], labels=[1])
            predictor.add_new_points_or_box(state, 0, 2, box=box)
            steps, elapsed = predictor.propagate_in_video(state), 0.0
            for index in range(frames):
                if index < first:
                    next(steps)
                elif counter:
                    counter(lambda: next(steps))
                else:
                    t = time.perf_counter(); next(steps); elapsed += time.perf_counter() - t
            return elapsed

        counter = Counter()
        run(counter)
        elapsed = run(None)
    per = (frames - first) * objects
    counter.attention //= per
    counter.other //= per
    return elapsed / per * 1000, counter


def report(name, ref_ms, counter, peak, ours=None):
    """Each precision's floor as ms and as a ratio to the reference; `ours` {precision: ms} beside it."""
    total = counter.attention + counter.other
    print(f"{name}: {total / 1e9:.2f} GFLOP ({counter.attention / 1e9:.2f} in attention), "
          f"reference fp32 {ref_ms:.1f} ms")
    rows = [("fp32", "fp32", total / peak["f32"] if peak["f32"] else None),
            ("bf16", "bf16", total / peak["bf16"] if peak["bf16"] else None),
            ("int8, every product", None, total / peak["int8"] if peak["int8"] else None),
            ("int8, attention in bf16", "int8", counter.other / peak["int8"] + counter.attention / peak["bf16"]
             if peak["int8"] and peak["bf16"] else None)]
    ours_header = f" {'ours ms':>9} {'ratio':>6} {'floor/ours':>10}" if ours else ""
    print(f"  {'':26} {'floor ms':>9} {'ratio':>6}" + ours_header)
    for label, precision, seconds_per_giga in rows:
        if seconds_per_giga is None:
            print(f"  {label:26} (no such instruction on this CPU)")
            continue
        ms = seconds_per_giga / 1e9 * 1000
        line = f"  {label:26} {ms:9.1f} {ms / ref_ms:6.2f}"
        if ours and precision in ours:
            line += f" {ours[precision]:9.1f} {ours[precision] / ref_ms:6.2f} {ms / ours[precision]:10.2f}"
        print(line)


def our_times(sam2, checkpoint, image, threads, repeat):
    """{precision: (set_image ms, predict ms)} of `sam2 bench`."""
    times = {}
    for precision in ("fp32", "bf16", "int8"):
        out = json.loads(subprocess.check_output(
            [sam2, "bench", "--checkpoint", checkpoint, "--image", image, "--repeat", str(repeat), "--threads",
             str(threads), "--precision", precision, "--json", "--quiet"]))
        times[precision] = (out["set_image_ms"], out["predict_ms"])
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--kernel-bench", default=os.path.join(ROOT, ".build", "release", "sam2-kernel-bench"),
                        help="release sam2-kernel-bench (swift build -c release --product sam2-kernel-bench)")
    parser.add_argument("--sam2", default=None, help="release sam2 binary: ours beside the floors")
    parser.add_argument("--video", action="store_true", help="also a video frame and object (a few minutes)")
    args = parser.parse_args()
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f"floors.py: no checkpoint at {args.checkpoint} (write the full-size random ones with "
                         "tools/reference/.venv/bin/python tools/reference/architectures.py checkpoints)")
    if not os.access(args.kernel_bench, os.X_OK):
        raise SystemExit(f"floors.py: no sam2-kernel-bench at {args.kernel_bench}; build it with "
                         "`swift build -c release --product sam2-kernel-bench` or pass --kernel-bench")
    import random_checkpoint as rc
    config = next((c for c in rc.CONFIG_FILES if os.path.basename(args.checkpoint) == f"{c}.pt"), None)
    if config is None:
        raise SystemExit(f"floors.py: {args.checkpoint} is not named after a configuration "
                         f"({', '.join(c + '.pt' for c in rc.CONFIG_FILES)})")

    peak, peak_text = peaks(args.kernel_bench, args.threads)
    ours = our_times(args.sam2, args.checkpoint, args.image, args.threads, args.repeat) if args.sam2 else None
    set_ms, predict_ms, set_count, predict_count = image_work(config, args.checkpoint, args.image, args.threads,
                                                              args.repeat)
    print(f"{config}, {args.threads} threads; this CPU's peaks (sam2-kernel-bench --peak):")
    print("".join("  " + line + "\n" for line in peak_text.splitlines()[1:]), end="")
    report("set_image", set_ms, set_count, peak, ours and {p: t[0] for p, t in ours.items()})
    report("predict", predict_ms, predict_count, peak, ours and {p: t[1] for p, t in ours.items()})
    if args.video:
        video_ms, video_count = video_work(config, args.checkpoint, args.threads)
        report("video, a frame and object", video_ms, video_count, peak)


if __name__ == "__main__":
    main()
