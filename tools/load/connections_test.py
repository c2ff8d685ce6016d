#!/usr/bin/env python3
"""Bounded connection-load test of `sam2 serve`: idle and trickling connections, then a burst of clients.

Starts `sam2 serve` on a temporary project folder holding one image, opens it and measures, unloaded,
the latency of a health request and of a prompt (one foreground click, three masks), each on a
fresh connection. Then it opens --idle connections that send nothing and --tricklers connections
that send a request's headers one byte every --trickle-s seconds, and for --window-s seconds
measures health and prompt latency again while they stay open. Then --clients clients send one
prompt each at the same moment (each on its own connection) while the idle connections are still
held. Acceptance (issue 16): every health request answered within 2 s, the loaded prompt median
within 3 × the unloaded one, every burst client answered 200. Exit status 0 when all hold, 1 when
one fails. Python standard library only.

usage: connections_test.py --binary .build/release/sam2 --checkpoint CKPT [--config NAME] [--image IMG]
                           [--idle 500] [--tricklers 20] [--trickle-s 9] [--window-s 25]
                           [--clients 100] [--threads N] [--json]
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def call(address, method, path, body=None, timeout=30.0):
    """One request on a fresh connection: (status, JSON or None, seconds); status 0 when it failed."""
    start = time.perf_counter()
    try:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=timeout)
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"} if data else {}
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        status = response.status
        parsed = json.loads(payload) if payload and response.getheader("Content-Type", "").startswith(
            "application/json") else None
    except (OSError, http.client.HTTPException, ValueError) as error:
        return 0, {"error": "%s: %s" % (type(error).__name__, error)}, time.perf_counter() - start
    return status, parsed, time.perf_counter() - start


def still_open(sock):
    """True while the server has not closed the connection."""
    try:
        sock.setblocking(False)
        data = sock.recv(1, socket.MSG_PEEK)
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True)
    parser.add_argument("--checkpoint", required=True)
    parser.add_argument("--config")
    parser.add_argument("--image", default=os.path.join(ROOT, "assets", "astronaut.jpg"))
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--tricklers", type=int, default=20)
    parser.add_argument("--trickle-s", type=float, default=9)
    parser.add_argument("--window-s", type=float, default=25)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--threads", type=int)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    common = ["--checkpoint", args.checkpoint] + (["--config", args.config] if args.config else []) \
        + (["--threads", str(args.threads)] if args.threads else [])
    project = tempfile.mkdtemp(prefix="sam2-connections-")
    name = "image" + os.path.splitext(args.image)[1]
    shutil.copy(args.image, os.path.join(project, name))
    server = subprocess.Popen([args.binary, "serve", "--port", "0", "--project", project, "--quiet"] + common,
                              stdout=subprocess.PIPE, text=True)
    held = []
    stop = threading.Event()
    report = {"idle": args.idle, "tricklers": args.tricklers, "trickle_s": args.trickle_s, "clients": args.clients}
    try:
        line = server.stdout.readline()
        url = next((w for w in line.split() if w.startswith("http://")), None)
        if url is None:
            sys.exit("sam2 serve did not print its address: %r" % line)
        address = urllib.parse.urlparse(url)
        status, info, _ = call(address, "POST", "/api/images/open", {"name": name}, timeout=600)
        if status != 200:
            sys.exit("cannot open the image: %d %s" % (status, info))
        predict_path = "/api/images/%s/predict" % info["id"]
        w, h = info["width"], info["height"]

        def prompt(k, timeout=30.0):
            return call(address, "POST", predict_path, {"points": [[(37 * k) % w, (53 * k) % h]], "labels": [1]},
                        timeout=timeout)

        prompt(0)  # warm
        unloaded_health = [call(address, "GET", "/api/health")[2] for _ in range(20)]
        unloaded_prompt = [prompt(k)[2] for k in range(1, 11)]
        report["unloaded_health_ms"] = statistics.median(unloaded_health) * 1000
        report["unloaded_prompt_ms"] = statistics.median(unloaded_prompt) * 1000

        # Idle connections: connected, silent. Tricklers: headers one byte at a time, never finished.
        for _ in range(args.idle):
            held.append(socket.create_connection((address.hostname, address.port), timeout=10))
        request = ("GET /api/health HTTP/1.1\r\nHost: %s:%d\r\nX-Slow: %s" % (
            address.hostname, address.port, "x" * 10000)).encode()
        tricklers = [socket.create_connection((address.hostname, address.port), timeout=10)
                     for _ in range(args.tricklers)]

        def trickle():
            position = 0
            while not stop.is_set() and position < len(request):
                for s in tricklers:
                    try:
                        s.send(request[position:position + 1])
                    except OSError:
                        pass
                position += 1
                stop.wait(args.trickle_s)

        trickler = threading.Thread(target=trickle, daemon=True)
        trickler.start()
        time.sleep(1)

        # Loaded: health and prompts on fresh connections for the window, one after the other.
        loaded_health, loaded_prompt, failures = [], [], []
        window_end = time.monotonic() + args.window_s
        k = 11
        while time.monotonic() < window_end:
            status, body, seconds = call(address, "GET", "/api/health", timeout=10)
            loaded_health.append(seconds)
            if status != 200:
                failures.append("health: %d %s" % (status, body))
            status, body, seconds = prompt(k)
            k += 1
            loaded_prompt.append(seconds)
            if status != 200:
                failures.append("prompt: %d %s" % (status, body))
            time.sleep(0.5)
        report["idle_still_open_after_window"] = sum(still_open(s) for s in held)
        report["tricklers_still_open_after_window"] = sum(still_open(s) for s in tricklers)
        report["loaded_health_ms_median"] = statistics.median(loaded_health) * 1000
        report["loaded_health_ms_max"] = max(loaded_health) * 1000
        report["loaded_prompt_ms_median"] = statistics.median(loaded_prompt) * 1000
        report["loaded_prompt_ms_max"] = max(loaded_prompt) * 1000
        report["loaded_requests"] = len(loaded_health) + len(loaded_prompt)

        # The burst: every client connects, then all send their prompt at the same moment. Prompts
        # run one at a time, so the last client waits for all the others: each may wait three times
        # that long (at least 30 s) before it counts as unanswered.
        barrier = threading.Barrier(args.clients)
        results = [None] * args.clients
        burst_timeout = max(30.0, 3 * args.clients * report["unloaded_prompt_ms"] / 1000)

        def client(j):
            barrier.wait()
            results[j] = prompt(1000 + j, timeout=burst_timeout)

        threads = [threading.Thread(target=client, args=(j,)) for j in range(args.clients)]
        burst_start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report["burst_seconds"] = time.perf_counter() - burst_start
        report["idle_still_open_after_burst"] = sum(still_open(s) for s in held)
        report["tricklers_still_open_after_burst"] = sum(still_open(s) for s in tricklers)
        answered = [r for r in results if r and r[0] == 200]
        report["burst_answered"] = len(answered)
        report["burst_ms_median"] = statistics.median([r[2] for r in answered]) * 1000 if answered else None
        report["burst_ms_max"] = max(r[2] for r in answered) * 1000 if answered else None
        failures += ["burst: %d %s" % (r[0], r[1]) for r in results if not r or r[0] != 200][:5]
    finally:
        stop.set()
        for s in held:
            s.close()
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
        shutil.rmtree(project, ignore_errors=True)

    checks = {
        "health within 2 s": report["loaded_health_ms_max"] <= 2000,
        "prompt median within 3x unloaded": report["loaded_prompt_ms_median"] <= 3 * report["unloaded_prompt_ms"],
        "every burst client answered": report["burst_answered"] == args.clients,
    }
    report["checks"] = checks
    report["failures"] = failures[:10]
    if args.json:
        print(json.dumps(report))
    else:
        print("unloaded: health %.1f ms, prompt %.1f ms (medians)" % (
            report["unloaded_health_ms"], report["unloaded_prompt_ms"]))
        print("with %d idle + %d trickling connections, %d requests over %.0f s:" % (
            args.idle, args.tricklers, report["loaded_requests"], args.window_s))
        print("  health  median %8.1f ms  max %8.1f ms" % (
            report["loaded_health_ms_median"], report["loaded_health_ms_max"]))
        print("  prompt  median %8.1f ms  max %8.1f ms  (%.2f x unloaded)" % (
            report["loaded_prompt_ms_median"], report["loaded_prompt_ms_max"],
            report["loaded_prompt_ms_median"] / report["unloaded_prompt_ms"]))
        print("  still open afterwards: %d of %d idle, %d of %d tricklers" % (
            report["idle_still_open_after_window"], args.idle, report["tricklers_still_open_after_window"],
            args.tricklers))
        median = "%.0f" % report["burst_ms_median"] if answered else "-"
        longest = "%.0f" % report["burst_ms_max"] if answered else "-"
        print("burst of %d prompts: %d answered in %.1f s (median %s ms, max %s ms)" % (
            args.clients, report["burst_answered"], report["burst_seconds"], median, longest))
        print("still open after the burst (%.0f s after opening): %d of %d idle, %d of %d tricklers" % (
            args.window_s + 1 + report["burst_seconds"], report["idle_still_open_after_burst"], args.idle,
            report["tricklers_still_open_after_burst"], args.tricklers))
        for failure in failures[:10]:
            print("  failed: %s" % failure)
        for check, ok in checks.items():
            print("%s %s" % ("PASS" if ok else "FAIL", check))
    sys.exit(0 if all(checks.values()) else 1)


if __name__ == "__main__":
    main()
