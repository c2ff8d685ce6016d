"""Writes the video-file fixture (Tests/SAM2Tests/Fixtures/video/clip.mp4 and clip.mp4.rgb).

The 10 JPEG frames of Fixtures/video/frames (make_video_fixtures.py) are encoded with PyAV's libx264
as H.264 (yuv420p, CRF 10, one encoder thread, keyframe every 4 frames, B-frames on, so that seeking
back to a keyframe and reordered frames are exercised) in an MP4 container. clip.mp4.rgb holds the
frames as the reference decoder path reads them back (PyAV: decode, `to_ndarray(format="rgb24")`),
10 × 48 × 64 × 3 bytes, frame-major, for the Swift decoder (libavcodec + libswscale) to be compared with.
For the bad-input tests: no_frames.mp4 (clip.mp4's H.264 stream with every packet zeroed: nothing decodes) and audio_only.wav (no video stream).

Reproducible: the same PyAV build (pinned below: av==18.1.0, its bundled FFmpeg and x264) and one
encoder thread give the same bytes.

    tools/reference/.venv/bin/pip install av==18.1.0
    tools/reference/.venv/bin/python tools/reference/make_video_file_fixture.py
"""
import os

import av
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
VIDEO = os.path.join(HERE, "..", "..", "Tests", "SAM2Tests", "Fixtures", "video")
FRAMES = os.path.join(VIDEO, "frames")
OUT = os.path.join(VIDEO, "clip.mp4")

assert av.__version__ == "18.1.0", f"PyAV {av.__version__}: the fixture was made with 18.1.0"


def encode():
    names = sorted(n for n in os.listdir(FRAMES) if n.endswith(".jpg"))
    images = [np.asarray(Image.open(os.path.join(FRAMES, n)).convert("RGB")) for n in names]
    with av.open(OUT, "w", format="mp4", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height = images[0].shape[1], images[0].shape[0]
        stream.pix_fmt = "yuv420p"
        stream.codec_context.thread_count = 1
        stream.codec_context.options = {"crf": "10", "preset": "medium", "x264-params": "keyint=4:min-keyint=4:scenecut=0:bframes=2:threads=1"}
        for image in images:
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return len(images)


def decode():
    with av.open(OUT) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def bad_inputs():
    with av.open(OUT) as source, av.open(os.path.join(VIDEO, "no_frames.mp4"), "w", format="mp4",
                                         options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream_from_template(source.streams.video[0])
        for packet in source.demux(video=0):
            if packet.size:
                zeros = av.Packet(bytes(packet.size))
                zeros.pts, zeros.dts, zeros.time_base, zeros.stream = packet.pts, packet.dts, packet.time_base, stream
                container.mux(zeros)
    with av.open(os.path.join(VIDEO, "audio_only.wav"), "w", format="wav", options={"fflags": "+bitexact"}) as container:
        stream = container.add_stream("pcm_s16le", rate=8000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 400), dtype=np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


count = encode()
frames = decode()
bad_inputs()
assert len(frames) == count, (len(frames), count)
with open(OUT + ".rgb", "wb") as f:
    f.write(np.stack(frames).astype(np.uint8).tobytes())
with av.open(OUT) as container:
    keys = [p.is_keyframe for p in container.demux(video=0) if p.size]
print(f"{OUT}: {len(frames)} frames {frames[0].shape[1]}×{frames[0].shape[0]}, {os.path.getsize(OUT)} bytes, keyframe packets {keys}")
