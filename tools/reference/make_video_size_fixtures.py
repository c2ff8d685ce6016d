"""Writes the odd-size video fixtures (Tests/SAM2Tests/Fixtures/video/sizes/): small clips of the frame
sizes that made libswscale write past the end of our RGB rows (600×400, 601×401, 333×517) and more odd
and even sizes in MP4: H.264 yuv420p where the size is even (what ffmpeg writes), H.264 yuv444p where it
is odd; the two odd sizes also as MPEG-4 Part 2 yuv420p (what OpenCV's `mp4v` writes); and a 600×400
JPEG named `.mp4`. sizes.json records, per file, the size, the frame count and, per frame, PyAV's
RGB24 decode sampled (per-channel means and nine pixels), for the Swift decoder to be compared with.
H.264 decodes bit-exactly everywhere ("exact": the samples agree within 1); MPEG-4 Part 2's IDCT and
swscale's odd-width chroma differ between FFmpeg builds, so for those only the means are compared.

    tools/reference/.venv/bin/python tools/reference/make_video_size_fixtures.py
"""
import json
import os

import av
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "video", "sizes")
SIZES = [(600, 400), (601, 401), (333, 517), (1, 1), (2, 2), (3, 5), (17, 9), (38, 22), (65, 33), (127, 1),
         (1000, 2), (854, 480), (1023, 577)]
FRAMES = 2
assert av.__version__ == "18.1.0", f"PyAV {av.__version__}: the fixtures were made with 18.1.0"


def picture(width, height, t):
    """A smooth picture with a moving edge: gradients in R and G, a bright square in B."""
    y, x = np.mgrid[0:height, 0:width]
    r = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    g = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    b = np.where((abs(x - (width // 3 + 2 * t)) < max(width // 6, 1)) & (abs(y - height // 2) < max(height // 6, 1)), 230, 20)
    return np.stack([r, g, b.astype(np.uint8)], axis=-1)


def encode(path, width, height, codec="libx264"):
    even = width % 2 == 0 and height % 2 == 0
    with av.open(path, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream(codec, rate=10)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p" if even or codec == "mpeg4" else "yuv444p"
        stream.codec_context.thread_count = 1
        if codec == "libx264":
            stream.codec_context.options = {"crf": "18", "preset": "medium", "x264-params": "threads=1"}
        for t in range(FRAMES):
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture(width, height, t), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def samples(frame):
    h, w, _ = frame.shape
    points = [(x, y) for y in (0, h // 2, h - 1) for x in (0, w // 2, w - 1)]
    return {"mean": [round(float(frame[..., c].mean()), 4) for c in range(3)],
            "pixels": [[x, y, *map(int, frame[y, x])] for x, y in points]}


def describe(path, exact=True):
    with av.open(path) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return {"file": os.path.basename(path), "width": frames[0].shape[1], "height": frames[0].shape[0],
            "exact": exact, "frames": [samples(f) for f in frames]}


os.makedirs(OUT, exist_ok=True)
records = []
for width, height in SIZES:
    path = os.path.join(OUT, f"{width}x{height}.mp4")
    encode(path, width, height)
    records.append(describe(path))
for width, height in [(601, 401), (333, 517)]:
    path = os.path.join(OUT, f"mpeg4_{width}x{height}.mp4")
    encode(path, width, height, codec="mpeg4")
    records.append(describe(path, exact=False))
jpeg = os.path.join(OUT, "jpeg_600x400.mp4")
Image.fromarray(picture(600, 400, 0)).save(jpeg, format="JPEG", quality=85)
records.append(describe(jpeg))
with open(os.path.join(OUT, "sizes.json"), "w") as f:
    json.dump(records, f, indent=1)
total = sum(os.path.getsize(os.path.join(OUT, r["file"])) for r in records)
print(f"{len(records)} files, {total} bytes: " + ", ".join(f"{r['file']} ({len(r['frames'])})" for r in records))
