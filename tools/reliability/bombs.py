#!/usr/bin/env python3
"""Hostile inputs of issue 16 at full size, through the built `sam2` binary: each case's exit status,
first stderr line, peak RSS (its VmHWM, see measured.py) and time, as a Markdown table. The inputs (up to tens of MB)
are written under .build/bombs/ on demand and never committed; the small regression fixtures the tests
use come from tools/reference/make_*_fixtures.py.

    tools/reference/.venv/bin/python tools/reliability/bombs.py --binary .build/release/sam2 \\
        --checkpoint tools/reference/checkpoints/sam2.1_hiera_t.pt

Needs numpy and Pillow (the reference venv has them); the checkpoint is a real one (random weights
do), used by the cases that corrupt a real checkpoint and by segment/serve.
"""
import argparse
import io
import json
import os
import pathlib
import signal
import socket
import struct
import subprocess
import time
import urllib.request
import zipfile
import zlib

import numpy as np
from PIL import Image

import measured

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / ".build" / "bombs"


def run(argv, timeout=600):
    """Runs argv to its end: (status, first stderr line, peak RSS MB, seconds)."""
    code, rss, seconds = measured.run(argv, stderr=OUT / "stderr", timeout=timeout)
    line = (OUT / "stderr").read_text(errors="replace").strip().splitlines()
    return code, (line[0] if line else ""), rss, seconds


def deflated_zip(members):
    """(name, data, declared size or None) → a zip whose members are deflated, with zip64 sizes."""
    out, central = bytearray(), bytearray()
    for name, data, declared in members:
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        size = len(data) if declared is None else declared
        crc = zlib.crc32(data) & 0xFFFFFFFF
        offset = len(out)
        nb = name.encode()
        extra = struct.pack("<HHQQ", 1, 16, size, len(packed))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(extra))
        out += nb + extra + packed
        cd_extra = struct.pack("<HHQQQ", 1, 24, size, len(packed), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                               len(nb), len(cd_extra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + cd_extra
    cd = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members), len(central), cd)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return bytes(out)


def png(path, side, fill=0):
    """A side×side gray PNG of one value, written row by row (small on disk, huge decoded)."""
    raw = zlib.compressobj(9)
    body = bytearray()
    row = b"\x00" + bytes([fill]) * side
    for _ in range(side):
        body += raw.compress(row)
    body += raw.flush()

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", bytes(body)) + chunk(b"IEND", b""))
    path.write_bytes(data)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=str(ROOT / ".build" / "release" / "sam2"))
    parser.add_argument("--checkpoint", required=True)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    sam2, ckpt = args.binary, args.checkpoint
    rows = []

    def case(item, name, argv, **kw):
        code, line, rss, seconds = run(argv, **kw)
        rows.append((item, name, code, line[:110], rss, seconds))
        print(f"{item} {name}: exit {code}, {rss:.0f} MB, {seconds:.1f} s: {line[:110]}", flush=True)

    photo = OUT / "photo.jpg"
    Image.fromarray((np.random.RandomState(0).rand(400, 600, 3) * 255).astype(np.uint8)).save(photo)

    # 3 and 5: checkpoints. A real checkpoint's members: data.pkl and data/0 are rewritten.
    with zipfile.ZipFile(ckpt) as z:
        members = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    pickle_name = next(n for n, _ in members if n.endswith("data.pkl"))
    zeros = bytes(14 << 20)
    (OUT / "pickle_3gib.pt").write_bytes(deflated_zip([(pickle_name, zeros, 3 << 30)]))
    (OUT / "pickle_1tib.pt").write_bytes(deflated_zip([(pickle_name, b"\x80\x02}q\x00.", 1 << 40)]))
    data0 = next(n for n, _ in members if n.endswith("/data/0"))
    (OUT / "data0_zeros_3gib.pt").write_bytes(
        deflated_zip([(n, zeros if n == data0 else d, 3 << 30 if n == data0 else None) for n, d in members]))
    (OUT / "data0_1tib.pt").write_bytes(
        deflated_zip([(n, d, 1 << 40 if n == data0 else None) for n, d in members]))
    for name in ["pickle_3gib.pt", "pickle_1tib.pt", "data0_zeros_3gib.pt", "data0_1tib.pt"]:
        case("3/5", f"info {name}", [sam2, "info", str(OUT / name)])
    case("3/5", "segment data0_zeros_3gib.pt",
         [sam2, "segment", str(photo), "--checkpoint", str(OUT / "data0_zeros_3gib.pt"), "--point", "5,5", "--quiet"])
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, "pad": "x" * (1 << 30)})
    with open(OUT / "header_1gb.safetensors", "wb") as f:
        f.write(struct.pack("<Q", len(header)) + header.encode() + bytes(4))
    del header, zeros, members
    case("14", "info header_1gb.safetensors", [sam2, "info", str(OUT / "header_1gb.safetensors")])

    # 6: image bombs.
    big = png(OUT / "png_22000.png", 22000)
    png(OUT / "png_8000.png", 8000, fill=128)
    jpeg = photo.read_bytes()
    sof = jpeg.index(b"\xff\xc0")
    (OUT / "jpeg_30000x16000.jpg").write_bytes(jpeg[: sof + 5] + struct.pack(">HH", 16000, 30000) + jpeg[sof + 9:])
    text = (b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
            + struct.pack(">I", zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)))
            + struct.pack(">I", 0x7FFFFFFF) + b"tEXt")
    (OUT / "text_2gib.png").write_bytes(text)
    seg = ["--checkpoint", ckpt, "--point", "5,5", "--quiet", "--output", str(OUT / "out")]
    for name in ["png_22000.png", "jpeg_30000x16000.jpg", "png_8000.png", "text_2gib.png"]:
        case("6", f"segment {name}", [sam2, "segment", str(OUT / name)] + seg)
    case("6", "segment png_8000.png --max-megapixels 64", [sam2, "segment", str(OUT / "png_8000.png"), "--max-megapixels", "64"] + seg)
    case("6", "segment --mask-input png_22000.png", [sam2, "segment", str(photo), "--mask-input", str(big)] + seg)

    # 7: many boxes.
    boxes = sum([["--box", f"{i % 500},{i % 300},{100 + i % 500},{100 + i % 300}"] for i in range(500)], [])
    case("7", "segment 500 boxes (600×400)", [sam2, "segment", str(photo), "--checkpoint", ckpt, "--quiet", "--json"] + boxes)
    detections = [{"image_id": 1, "bbox": [i % 500, i % 300, 100, 100], "score": 0.9, "category_id": 1} for i in range(800)]
    (OUT / "detections.json").write_text(json.dumps(detections))
    one = OUT / "images"
    one.mkdir(exist_ok=True)
    (one / "000000000001.jpg").write_bytes(photo.read_bytes())
    case("7", "segment 800 COCO detections", [sam2, "segment", str(one), "--checkpoint", ckpt, "--quiet",
                                              "--boxes-from", str(OUT / "detections.json"), "--output", str(OUT / "det"),
                                              "--overwrite"])

    # 9: automatic-mask bounds.
    case("9", "auto --points-per-side 100000", [sam2, "auto", str(photo), "--checkpoint", ckpt, "--points-per-side", "100000"])
    case("9", "auto --crop-n-layers 10", [sam2, "auto", str(photo), "--checkpoint", ckpt, "--crop-n-layers", "10"])

    # 10: a FIFO as checkpoint and image, /dev/zero as image.
    fifo = OUT / "fifo"
    if fifo.exists():
        fifo.unlink()
    os.mkfifo(fifo)
    case("10", "info FIFO", [sam2, "info", str(fifo)], timeout=30)
    case("10", "segment FIFO", [sam2, "segment", str(fifo)] + seg, timeout=30)
    case("10", "segment /dev/zero", [sam2, "segment", "/dev/zero"] + seg, timeout=30)

    # 6/8: the 22000² upload through serve.
    project = OUT / "project"
    project.mkdir(exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ready = OUT / "serve.out"
    with open(ready, "w") as out:
        serve = subprocess.Popen([sam2, "serve", "--checkpoint", ckpt, "--project", str(project), "--port", str(port),
                                  "--quiet"], stdout=out, stderr=subprocess.DEVNULL, close_fds=True)
    while "http://" not in ready.read_text():
        time.sleep(0.1)
    start = time.time()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/images/upload?name=big.png", data=big.read_bytes(),
                                     method="POST")
    try:
        status = urllib.request.urlopen(request, timeout=120).status
        message = ""
    except urllib.error.HTTPError as e:
        status, message = e.code, json.loads(e.read()).get("error", "")
    seconds = time.time() - start
    rss = measured.peak(serve.pid)
    serve.send_signal(signal.SIGTERM)
    _, wait_status, _ = os.wait4(serve.pid, 0)
    saved = (project / "big.png").exists()
    rows.append(("6/8", "serve upload png_22000.png", status, f"{message[:80]} (saved: {saved}); serve exit "
                 f"{os.waitstatus_to_exitcode(wait_status)}", rss, seconds))
    print(rows[-1], flush=True)

    print("\n| item | case | exit / HTTP | first line | peak RSS MB | s |\n|---|---|---|---|---|---|")
    for item, name, code, line, rss, seconds in rows:
        print(f"| {item} | {name} | {code} | {line.replace('|', '/')} | {rss:.0f} | {seconds:.1f} |")


if __name__ == "__main__":
    main()
