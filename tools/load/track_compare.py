#!/usr/bin/env python3
"""Tracking through `sam2 serve`'s video API against `sam2 track` on the same clip and prompts.

Runs `sam2 track --json` (timing each frame line as it arrives) and then `sam2 serve` (opening the
clip, sending the same prompts, POST /track, polling its status), one after the other, each in its
own process, and reports for both the time per frame (from the first tracked frame to the last)
and the process's peak resident memory (its rusage; the server's VmHWM once tracking is done); then the ratios server / track.

usage: track_compare.py --binary .build/release/sam2 --checkpoint CKPT [--config NAME] --video CLIP.mp4
                        [--prompts PROMPTS.json] [--threads N] [--max-frames N] [--repeat N]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request


def peak_rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def per_frame(stamps):
    """Seconds per frame from (time, frames done) pairs: first frame done to last."""
    (t0, n0), (t1, n1) = stamps[0], stamps[-1]
    return (t1 - t0) / max(1, n1 - n0)


def run_track(args, prompts, work):
    out = tempfile.mkdtemp(prefix="track-", dir=work)
    command = [args.binary, "track", args.video, "--prompts", prompts, "--output", out, "--json", "--quiet",
               "--threads", str(args.threads)] + model_arguments(args)
    if args.max_frames is not None:
        command += ["--max-frames", str(args.max_frames)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stamps = []
    for _ in process.stdout:
        stamps.append((time.monotonic(), len(stamps) + 1))
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("sam2 track failed")
    return per_frame(stamps), usage.ru_maxrss, len(stamps)


def model_arguments(args):
    return ["--checkpoint", args.checkpoint] + (["--config", args.config] if args.config else [])


def call(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())


def run_server(args, prompts, work):
    project = tempfile.mkdtemp(prefix="project-", dir=work)
    name = os.path.basename(args.video)
    shutil.copy(args.video, os.path.join(project, name))   # a link leading out of the project would be refused
    process = subprocess.Popen([args.binary, "serve", "--port", "0", "--project", project, "--quiet", "--threads",
                                str(args.threads)] + model_arguments(args), stdout=subprocess.PIPE, text=True)
    try:
        base = next(w for w in process.stdout.readline().split() if w.startswith("http://")).rstrip("/")
        video = call(base, "POST", "/api/videos/open", {"name": name})
        for p in prompts:
            call(base, "POST", "/api/videos/%s/prompts" % video["id"], p)
        body = {} if args.max_frames is None else {"max_frames": args.max_frames}
        call(base, "POST", "/api/videos/%s/track" % video["id"], body)
        stamps, peak = [], 0
        while True:
            status = call(base, "GET", "/api/videos/%s/track" % video["id"])
            peak = max(peak, peak_rss_kib(process.pid))
            if status["done"] > 0 and (not stamps or stamps[-1][1] != status["done"]):
                stamps.append((time.monotonic(), status["done"]))
            if status["status"] != "running":
                break
            time.sleep(0.05)
        if status["status"] != "done":
            sys.exit("tracking through the server ended %s" % status)
        return per_frame(stamps), peak, status["done"]
    finally:
        process.terminate()
        process.wait(timeout=60)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config", help="configuration (for a checkpoint whose config is not detected)")
    parser.add_argument("--video", required=True)
    parser.add_argument("--prompts", help="a sam2 track prompts file (default: one click at the frame's centre)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--max-frames", type=int)
    parser.add_argument("--repeat", type=int, default=1, help="runs of each, alternating (the medians are reported)")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sam2-track-compare-")
    try:
        if args.prompts:
            prompts_path = args.prompts
            with open(prompts_path) as f:
                prompts = json.load(f)
        else:
            size = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                                   "stream=width,height", "-of", "csv=p=0", args.video], capture_output=True, text=True,
                                  check=True).stdout.strip().split(",")
            prompts = [{"frame": 0, "object": 1, "points": [[int(size[0]) // 2, int(size[1]) // 2]], "labels": [1]}]
            prompts_path = os.path.join(work, "prompts.json")
            with open(prompts_path, "w") as f:
                json.dump(prompts, f)
        track, serve = [], []
        for _ in range(args.repeat):
            track.append(run_track(args, prompts_path, work))
            serve.append(run_server(args, prompts, work))
            print("run: sam2 track %.3f s/frame %.0f MiB; sam2 serve %.3f s/frame %.0f MiB"
                  % (track[-1][0], track[-1][1] / 1024, serve[-1][0], serve[-1][1] / 1024), flush=True)
        track_s, track_kib = statistics.median(r[0] for r in track), statistics.median(r[1] for r in track)
        serve_s, serve_kib = statistics.median(r[0] for r in serve), statistics.median(r[1] for r in serve)
        print("sam2 track: %d frames, %.3f s/frame, peak RSS %.0f MiB" % (track[0][2], track_s, track_kib / 1024))
        print("sam2 serve: %d frames, %.3f s/frame, peak RSS %.0f MiB" % (serve[0][2], serve_s, serve_kib / 1024))
        print("ratios serve/track: time per frame %.3f, peak RSS %.3f" % (serve_s / track_s, serve_kib / track_kib))
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
