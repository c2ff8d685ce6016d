#!/usr/bin/env python3
"""Checks sam2's Hugging Face cache against huggingface_hub itself (the package from PyPI):

1. what `sam2 models pull facebook/sam2.1-hiera-tiny` writes is what huggingface_hub reads —
   try_to_load_from_cache and hf_hub_download(local_files_only=True) return sam2's file, scan_cache_dir
   sees one clean revision with refs/main, and an online hf_hub_download reuses the blob (no GET);
2. what huggingface_hub downloads is what sam2 reads, offline, by branch and by commit;
3. a snapshot named after the revision (a server without X-Repo-Commit) is found by huggingface_hub too.

Everything is served by tools/models/model_server.py on 127.0.0.1 (the small random checkpoint standing
for the official file). scripts/test.sh runs it in .build/hub-venv; by hand:

    python3 -m venv /tmp/hub && /tmp/hub/bin/pip install huggingface_hub
    /tmp/hub/bin/python tools/models/check_hf_cache.py --binary .build/debug/sam2
"""

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

# huggingface_hub reads its settings when imported: a home of its own, no token, nothing sent elsewhere.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="check-hf-home-")
os.environ.pop("HF_TOKEN", None)
os.environ.pop("HF_HUB_OFFLINE", None)
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_UPDATE_CHECK"] = "1"

from huggingface_hub import hf_hub_download, scan_cache_dir, try_to_load_from_cache  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "Tests/SAM2Tests/Fixtures/model"
CHECKPOINT = FIXTURES / "small_2.1.pt"
CONFIG = FIXTURES / "small_2.1.json"
IMAGE = FIXTURES / "images/odd.png"
REPO = "facebook/sam2.1-hiera-tiny"
FILE = "sam2.1_hiera_tiny.pt"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class Server:
    def __init__(self, root, *options):
        self.log = pathlib.Path(root).parent / "requests.jsonl"
        self.log.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "tools/models/model_server.py"), "--root", str(root), "--log", str(self.log)]
            + list(options),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.url = "http://127.0.0.1:" + self.process.stdout.readline().split()[1]

    def requests(self):
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def stop(self):
        self.process.stdin.close()
        self.process.kill()
        self.process.wait()


def sam2(binary, arguments, home, endpoint):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "HF_HOME": str(home / "hf"), "HF_ENDPOINT": endpoint}
    run = subprocess.run([binary] + arguments, env=env, capture_output=True, text=True)
    if run.returncode != 0:
        raise SystemExit(f"sam2 {' '.join(arguments)} failed ({run.returncode}): {run.stderr.strip()}")
    return run.stdout.strip()


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAIL: {what}")
    print(f"ok: {what}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    binary = str(pathlib.Path(parser.parse_args().binary).resolve())
    data = CHECKPOINT.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory() as temporary:
        temporary = pathlib.Path(temporary)
        served = temporary / "served"
        (served / REPO).mkdir(parents=True)
        shutil.copy(CHECKPOINT, served / REPO / FILE)
        server = Server(served)
        pull = ["models", "pull", REPO, "--config", str(CONFIG), "--quiet"]

        # 1. sam2 downloads; huggingface_hub reads.
        home = temporary / "ours"
        path = sam2(binary, pull, home, server.url)
        cache = home / "hf/hub"
        check(try_to_load_from_cache(REPO, FILE, cache_dir=cache) == path, "try_to_load_from_cache finds sam2's file")
        found = hf_hub_download(REPO, FILE, cache_dir=cache, local_files_only=True)
        check(found == path, "hf_hub_download(local_files_only=True) finds sam2's file")
        check(pathlib.Path(found).read_bytes() == data, "its bytes are the served file's")
        info = scan_cache_dir(cache)
        check(not info.warnings, f"scan_cache_dir has no warnings ({info.warnings})")
        (repo,) = info.repos
        (revision,) = repo.revisions
        check(
            repo.repo_id == REPO and revision.commit_hash == COMMIT and revision.refs == frozenset({"main"}),
            "scan_cache_dir sees one revision, the server's commit, named by refs/main",
        )
        check(
            [(f.file_name, f.size_on_disk, pathlib.Path(f.blob_path).name) for f in revision.files]
            == [(FILE, len(data), digest)],
            "its one file is the blob named by the SHA-256",
        )
        gets = len([r for r in server.requests() if r["method"] == "GET"])
        online = hf_hub_download(REPO, FILE, cache_dir=cache, endpoint=server.url)
        check(
            online == path and len([r for r in server.requests() if r["method"] == "GET"]) == gets,
            "an online hf_hub_download reuses it without downloading",
        )

        # 2. huggingface_hub downloads; sam2 reads, offline.
        home = temporary / "python"
        python_path = hf_hub_download(REPO, FILE, cache_dir=home / "hf/hub", endpoint=server.url)
        by_commit = temporary / "python-commit"
        hf_hub_download(REPO, FILE, revision=COMMIT, cache_dir=by_commit / "hf/hub", endpoint=server.url)
        server.stop()
        offline = pull + ["--offline"]
        check(sam2(binary, offline, home, server.url) == python_path, "sam2 finds Python's download, offline")
        segment = ["segment", str(IMAGE), "--point", "40,50", "--single", "--model", REPO, "--config", str(CONFIG)]
        sam2(binary, segment + ["--offline"], home, server.url)
        print("ok: sam2 segment --model runs on it")
        sam2(binary, offline + ["--revision", COMMIT], by_commit, server.url)
        print("ok: sam2 --revision COMMIT finds a download by commit (no ref)")

        # 3. No commit id from the server: the snapshot named after the revision, found by Python.
        server = Server(served, "--no-commit")
        home = temporary / "no-commit"
        path = sam2(binary, pull, home, server.url)
        server.stop()
        check(path.endswith(f"/snapshots/main/{FILE}"), "without X-Repo-Commit the snapshot is named main")
        cache = home / "hf/hub"
        check(try_to_load_from_cache(REPO, FILE, cache_dir=cache) == path, "try_to_load_from_cache finds it")
        check(
            hf_hub_download(REPO, FILE, cache_dir=cache, local_files_only=True) == path,
            "hf_hub_download(local_files_only=True) finds it",
        )
    shutil.rmtree(os.environ["HF_HOME"], ignore_errors=True)
    print("the Hugging Face cache written and read by sam2 is huggingface_hub's")


if __name__ == "__main__":
    main()
