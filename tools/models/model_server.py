#!/usr/bin/env python3
"""A small HTTP server on 127.0.0.1 for the model download tests (standard library only).

It stands for both places `sam2 --model` downloads from:

* the official release: GET/HEAD /<path> serves ROOT/<path> (e.g. /092824/sam2.1_hiera_tiny.pt);
* the Hugging Face Hub: GET/HEAD /<org>/<repo>/resolve/<revision>/<file> answers as the Hub does for an
  LFS file: 302 to a CDN URL on another host name (http://localhost:PORT/cdn/<org>/<repo>/<file>) with
  X-Repo-Commit, X-Linked-Etag (the file's SHA-256) and X-Linked-Size; revision `main` or COMMIT only;
  a missing file or revision is a 404 with X-Error-Code.

Files are served with Content-Length, ETag, Accept-Ranges and HTTP Range (206 + Content-Range). A
request in absolute form (`GET http://host/path`, as a client sends to a proxy) is served too and
logged as proxied. Faults, for the failure tests:

  --cut-at N     every file response stops (the connection is closed) once byte N of the file is sent
  --cut-once N   the first file response stops at byte N, later ones are whole
  --no-range     Range is ignored (200 and the whole file)
  --no-commit    no X-Repo-Commit header
  --wrong-sha    X-Linked-Etag is the SHA-256 of something else
  --chunk-delay S  S seconds between 64 KiB pieces of a body (a slow server, for concurrent downloads)

Prints "port N" on stdout once listening, logs each request as a JSON line to --log, and exits when
its stdin closes (so a test that dies takes its server with it) or on SIGTERM.
"""

import argparse
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 (the base class's name)
        pass

    def do_HEAD(self):
        self.handle_request(head=True)

    def do_GET(self):
        self.handle_request(head=False)

    def handle_request(self, head):
        options = self.server.options
        target = self.path
        proxied = target.startswith("http://") or target.startswith("https://")
        if proxied:
            target = urllib.parse.urlsplit(target).path
        path = urllib.parse.unquote(target.split("?", 1)[0])
        entry = {
            "method": self.command,
            "path": path,
            "host": self.headers.get("Host"),
            "range": self.headers.get("Range"),
            "if_range": self.headers.get("If-Range"),
            "accept_encoding": self.headers.get("Accept-Encoding"),
            "proxied": proxied,
        }
        status = self.route(path, head, options)
        entry["status"] = status
        with self.server.log_lock:
            if options.log:
                with open(options.log, "a") as log:
                    log.write(json.dumps(entry) + "\n")

    def route(self, path, head, options):
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            org, repo, revision = parts[0], parts[1], parts[3]
            file = "/".join(parts[4:])
            local = self.local_file(f"{org}/{repo}/{file}")
            if revision not in ("main", COMMIT):
                return self.empty(404, {"X-Error-Code": "RevisionNotFound"})
            if local is None:
                headers = {"X-Error-Code": "EntryNotFound"}
                if not options.no_commit:
                    headers["X-Repo-Commit"] = COMMIT
                return self.empty(404, headers)
            digest = sha256_of(local)
            if options.wrong_sha:
                digest = hashlib.sha256(b"something else").hexdigest()
            port = self.server.server_address[1]
            headers = {
                "Location": f"http://localhost:{port}/cdn/{org}/{repo}/{urllib.parse.quote(file)}",
                "X-Linked-Etag": f'"{digest}"',
                "X-Linked-Size": str(os.path.getsize(local)),
                "ETag": '"pointer-etag"',
            }
            if not options.no_commit:
                headers["X-Repo-Commit"] = COMMIT
            return self.empty(302, headers)
        relative = "/".join(parts[1:]) if parts[0] == "cdn" else "/".join(parts)
        local = self.local_file(relative)
        if local is None:
            return self.empty(404, {})
        return self.send_file(local, head, options)

    def local_file(self, relative):
        root = os.path.realpath(self.server.options.root)
        local = os.path.realpath(os.path.join(root, relative))
        if not local.startswith(root + os.sep) or not os.path.isfile(local):
            return None
        return local

    def empty(self, status, headers):
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()
        return status

    def send_file(self, local, head, options):
        size = os.path.getsize(local)
        start = 0
        requested = self.headers.get("Range")
        if requested and not options.no_range and requested.startswith("bytes=") and requested.endswith("-"):
            start = int(requested[len("bytes=") : -1])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return 416
        status = 206 if start > 0 else 200
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Accept-Ranges", "none" if options.no_range else "bytes")
        self.send_header("ETag", f'"{sha256_of(local)[:32]}"')
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
        self.end_headers()
        if head:
            return status
        end = size
        with self.server.log_lock:
            cut = options.cut_at
            if options.cut_once is not None and not self.server.cut_done:
                cut = options.cut_once
                self.server.cut_done = True
        if cut is not None:
            end = max(start, min(size, cut))
        with open(local, "rb") as f:
            f.seek(start)
            remaining = end - start
            while remaining > 0:
                chunk = f.read(min(65536, remaining))
                self.wfile.write(chunk)
                remaining -= len(chunk)
                if options.chunk_delay:
                    self.wfile.flush()
                    time.sleep(options.chunk_delay)
        self.wfile.flush()
        if end < size:
            self.close_connection = True
            self.connection.shutdown(2)
        return status


_digests = {}


def sha256_of(path):
    if path not in _digests:
        with open(path, "rb") as f:
            _digests[path] = hashlib.sha256(f.read()).hexdigest()
    return _digests[path]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--log")
    parser.add_argument("--cut-at", type=int)
    parser.add_argument("--cut-once", type=int)
    parser.add_argument("--no-range", action="store_true")
    parser.add_argument("--no-commit", action="store_true")
    parser.add_argument("--wrong-sha", action="store_true")
    parser.add_argument("--chunk-delay", type=float, default=0)
    options = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", options.port), Handler)
    server.daemon_threads = True
    server.options = options
    server.log_lock = threading.Lock()
    server.cut_done = False
    print(f"port {server.server_address[1]}", flush=True)

    def watch_stdin():
        while sys.stdin.buffer.read(4096):
            pass
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
