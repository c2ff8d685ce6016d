"""Side-by-side speed of swift-sam2 and the reference, in one run, as ratios (ours / reference).

    tools/reference/.venv/bin/python tools/reference/compare_bench.py --checkpoint CKPT [--image IMAGE]
        [--threads 2] [--repeat 5] [--sam2 PATH_TO_RELEASE_BINARY] [--precisions fp32,bf16,int8] [--peers]

Measures, on the same checkpoint, image and thread count:
  set_image   median time (reference: SAM2ImagePredictor.set_image in fp32 and under bf16 autocast;
              ours: `sam2 bench` in each precision)
  predict     median time of one point at the image centre, three masks, upsampled to the image
  end to end  process start to mask files: `sam2 segment` against segment_reference.py
  peak RSS    of those processes (ours in each precision)
  weights     the model's weights as held (ours: float32, or packed bf16/int8; reference: its parameters
              and buffers)
With --peers, the image encoder alone (from the preprocessed image) on the reference in fp32 and bf16
autocast, ONNX Runtime fp32 and OpenVINO fp32 and bf16 (the encoder exported to ONNX from the
reference; peer_runtimes.py), each output's relative L2 against the reference fp32, and the ratios.
Ratios are to the reference fp32 of the same run.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import measure  # noqa: E402


def reference_times(config, checkpoint, image, threads, repeat):
    import torch

    predictor, img, predict = measure.reference_image_work(config, checkpoint, image, threads)
    with torch.inference_mode():
        predictor.set_image(img)
        predict()
        set_times, predict_times, autocast_times = [], [], []
        for _ in range(repeat):
            t = time.perf_counter(); predictor.set_image(img); set_times.append(time.perf_counter() - t)
        for _ in range(repeat):
            t = time.perf_counter(); predict(); predict_times.append(time.perf_counter() - t)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            predictor.set_image(img)
            for _ in range(repeat):
                t = time.perf_counter(); predictor.set_image(img); autocast_times.append(time.perf_counter() - t)
    return (statistics.median(set_times) * 1000, statistics.median(predict_times) * 1000,
            statistics.median(autocast_times) * 1000, predictor.model)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--sam2", default=None, help="release sam2 binary (default: build it)")
    parser.add_argument("--precisions", default="fp32,bf16,int8", help="ours: comma-separated fp32, bf16, int8")
    parser.add_argument("--peers", action="store_true", help="also ONNX Runtime and OpenVINO (encoder alone)")
    args = parser.parse_args()
    if args.peers:
        try:
            import onnx, onnxruntime, openvino  # noqa: F401
        except ImportError as e:
            raise SystemExit(f"compare_bench.py --peers: {e.name} is not installed in the reference venv; "
                             "run: bash tools/reference/setup_env.sh --peers")
    sam2 = measure.release_sam2(args.sam2)
    info = json.loads(subprocess.check_output([sam2, "info", args.checkpoint, "--json"]))
    config = info["config"]
    from PIL import Image
    w, h = Image.open(args.image).size

    precisions = args.precisions.split(",")
    ours = {p: json.loads(subprocess.check_output(
        [sam2, "bench", "--checkpoint", args.checkpoint, "--image", args.image, "--repeat", str(args.repeat),
         "--threads", str(args.threads), "--precision", p, "--json", "--quiet"])) for p in precisions}
    ref_set, ref_predict, ref_autocast, model = reference_times(config, args.checkpoint, args.image, args.threads,
                                                                 args.repeat)

    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = lambda p: [sam2, "segment", args.image, "--checkpoint", args.checkpoint,  # noqa: E731
                              "--point", f"{w / 2},{h / 2}", "--output", os.path.join(tmp, "ours"),
                              "--threads", str(args.threads), "--precision", p]
        ref_cmd = [sys.executable, os.path.join(HERE, "segment_reference.py"), args.image, args.checkpoint, config,
                   str(w / 2), str(h / 2), os.path.join(tmp, "ref"), "--threads", str(args.threads)]
        ours_e2e = {p: min(measure.wall_time(ours_cmd(p)) for _ in range(2)) for p in precisions}
        ref_e2e = min(measure.wall_time(ref_cmd) for _ in range(2))
        ours_rss = {p: measure.peak_rss(ours_cmd(p)) for p in precisions}
        ref_rss = measure.peak_rss(ref_cmd)
        peers = []
        if args.peers:
            import numpy as np
            import peer_runtimes
            peers = peer_runtimes.measure(model, np.array(Image.open(args.image).convert("RGB")), args.threads,
                                          args.repeat, tmp)

    # The reference's weights: every parameter and buffer of the model, as float32 (MB).
    ref_weights = sum(t.numel() * t.element_size() for t in list(model.parameters()) + list(model.buffers())) / 1e6
    rows = [("reference set_image bf16 autocast (ms)", ref_autocast, ref_set)]
    for p in precisions:
        rows += [(f"ours set_image {p} (ms, median)", ours[p]["set_image_ms"], ref_set),
                 (f"ours predict {p} (ms, median)", ours[p]["predict_ms"], ref_predict),
                 (f"ours start to mask files {p} (s)", ours_e2e[p], ref_e2e),
                 (f"ours peak RSS {p} (MB)", ours_rss[p], ref_rss),
                 (f"ours weights held {p} (MB)", ours[p]["weights_mb"], ref_weights)]
    print(f"{config}, {args.threads} threads, image {w}x{h}; reference fp32: set_image {ref_set:.1f} ms, "
          f"predict {ref_predict:.1f} ms, start to mask files {ref_e2e:.1f} s, peak RSS {ref_rss:.1f} MB")
    print(f"{'':40} {'value':>10} {'ref fp32':>10} {'ratio':>7}")
    for name, o, r in rows:
        print(f"{name:40} {o:10.1f} {r:10.1f} {o / r:7.2f}")
    if peers:
        base = peers[0][1]
        print(f"image encoder alone (1024², preprocessed input); errors: rel L2 of image_embed, high_res_0, high_res_1")
        for name, ms, errors in peers:
            print(f"{name:40} {ms:10.1f} {base:10.1f} {ms / base:7.2f}   " + " ".join(f"{e:.4f}" for e in errors))


if __name__ == "__main__":
    main()
