#!/usr/bin/env python3
"""Bounded load test of `sam2 serve` on loopback: N clients × M clicks, then it stops.

Runs `sam2 bench` on the same checkpoint and image first (its predict_ms is the yardstick), starts
`sam2 serve` on a temporary project folder, gives each client its own copy of the image (as
annotators each on their own image; --shared-image puts them all on one), opens them, and lets
every client click M times at random pixels (one foreground point, three masks, as bench does),
pausing a random think time between clicks (uniform in [0.5, 1.5] × --think-ms; 0 = back to
back). Reports p50/p95 of the server-side click-to-mask time (the Server-Timing `total`: from the
complete request to the encoded masks, waiting included), of the model's predict alone, and of the
client's round trip, and the ratio of the server median to bench's predict_ms. Python standard
library only.

usage: load_test.py --binary .build-release/release/sam2 --checkpoint CKPT [--image IMG]
                    [--clients 8] [--clicks 40] [--think-ms 1000] [--threads N] [--json]
"""
import argparse
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def percentile(values, q):
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def server_timing(header):
    """'predict;dur=1.2, total;dur=3.4' → {'predict': 1.2, 'total': 3.4}"""
    out = {}
    for part in (header or "").split(","):
        name, _, rest = part.strip().partition(";dur=")
        if rest:
            out[name] = float(rest)
    return out


def request(connection, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    connection.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
    response = connection.getresponse()
    payload = response.read()
    if response.status != 200:
        raise RuntimeError("%s %s: %d %s" % (method, path, response.status, payload[:200]))
    return json.loads(payload), response.getheader("Server-Timing")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config")
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--clicks", type=int, default=40)
    parser.add_argument("--think-ms", type=float, default=1000)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--bench-repeat", type=int, default=10)
    parser.add_argument("--shared-image", action="store_true")
    parser.add_argument("--deadline-s", type=float, default=900, help="stop clicking after this long whatever is left")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    common = ["--checkpoint", args.checkpoint] + (["--config", args.config] if args.config else []) \
        + (["--threads", str(args.threads)] if args.threads else [])
    bench = json.loads(subprocess.run([args.binary, "bench", "--image", args.image, "--repeat", str(args.bench_repeat), "--json",
                                       "--quiet"] + common, capture_output=True, text=True, check=True).stdout)

    project = tempfile.mkdtemp(prefix="sam2-load-")
    ext = os.path.splitext(args.image)[1]
    names = ["client%d%s" % (0 if args.shared_image else k, ext) for k in range(args.clients)]
    for name in set(names):
        shutil.copy(args.image, os.path.join(project, name))
    server = subprocess.Popen([args.binary, "serve", "--port", "0", "--project", project, "--quiet"] + common,
                              stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        url = next((w for w in line.split() if w.startswith("http://")), None)
        if url is None:
            sys.exit("sam2 serve did not print its address: %r" % line)
        address = urllib.parse.urlparse(url)
        setup = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
        images = {}
        for name in set(names):
            info, _ = request(setup, "POST", "/api/images/open", {"name": name})
            images[name] = info
            request(setup, "POST", "/api/images/%s/predict" % info["id"], {"points": [[info["width"] / 2, info["height"] / 2]]})

        records = []
        lock = threading.Lock()
        deadline = time.monotonic() + args.deadline_s
        start = time.monotonic()

        def client(k):
            rng = random.Random(k)
            info = images[names[k]]
            connection = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
            for _ in range(args.clicks):
                if time.monotonic() > deadline:
                    break
                if args.think_ms > 0:
                    time.sleep(args.think_ms * rng.uniform(0.5, 1.5) / 1000)
                point = [rng.randrange(info["width"]), rng.randrange(info["height"])]
                t0 = time.perf_counter()
                _, timing = request(connection, "POST", "/api/images/%s/predict" % info["id"], {"points": [point], "labels": [1]})
                client_ms = (time.perf_counter() - t0) * 1000
                t = server_timing(timing)
                with lock:
                    records.append((t["total"], t["predict"], client_ms))
            connection.close()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
    finally:
        server.terminate()
        server.wait(timeout=60)
        shutil.rmtree(project, ignore_errors=True)

    total, predict, client = ([r[i] for r in records] for i in range(3))
    report = {
        "config": bench["config"], "threads": bench["threads"], "clients": args.clients, "clicks": len(records),
        "think_ms": args.think_ms, "shared_image": args.shared_image, "image": os.path.basename(args.image),
        "bench_predict_ms": bench["predict_ms"], "bench_set_image_ms": bench["set_image_ms"],
        "server_p50_ms": percentile(total, 50), "server_p95_ms": percentile(total, 95),
        "predict_p50_ms": percentile(predict, 50), "predict_p95_ms": percentile(predict, 95),
        "client_p50_ms": percentile(client, 50), "client_p95_ms": percentile(client, 95),
        "clicks_per_s": len(records) / elapsed,
    }
    report["server_p50_over_bench_predict"] = report["server_p50_ms"] / bench["predict_ms"]
    if args.json:
        print(json.dumps(report))
    else:
        print("%(config)s, %(threads)d threads, %(clients)d clients, %(clicks)d clicks, think %(think_ms).0f ms, "
              "%(clicks_per_s).1f clicks/s" % report)
        print("bench predict_ms           %8.1f" % report["bench_predict_ms"])
        print("server click-to-mask  p50  %8.1f  p95 %8.1f ms  (p50 = %.2f × bench predict)"
              % (report["server_p50_ms"], report["server_p95_ms"], report["server_p50_over_bench_predict"]))
        print("  of which predict    p50  %8.1f  p95 %8.1f ms" % (report["predict_p50_ms"], report["predict_p95_ms"]))
        print("client round trip     p50  %8.1f  p95 %8.1f ms" % (report["client_p50_ms"], report["client_p95_ms"]))


if __name__ == "__main__":
    main()
