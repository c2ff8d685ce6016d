#!/usr/bin/env python3
"""Writes the image I/O fixtures in Tests/SAM2Tests/Fixtures/images/: tiny JPEGs and PNGs of every
kind ImageIO reads, each with what PIL makes of it, plus bad files and numpy-written .npy files.
Run with the reference environment:

    tools/reference/.venv/bin/python tools/reference/make_image_fixtures.py

For every image `name.ext` in manifest.json, `name.ext.rgb` holds the bytes of
np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")) (height x width x 3) and the
manifest gives that width and height; masks get `name.mask` (0/1) and `name.index` (raw indices).
"""
import io
import json
import struct
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

OUT = Path(__file__).resolve().parents[2] / "Tests" / "SAM2Tests" / "Fixtures" / "images"
W, H = 13, 9  # odd sizes exercise chroma subsampling edges and rotation


def pattern(width=W, height=H, channels=3, seed=0):
    """Smooth gradients with a sharp edge and a little noise, so that JPEG has work to do."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    planes = [
        (x * 255 // max(width - 1, 1)),
        (y * 255 // max(height - 1, 1)),
        np.where((x + y) % 7 < 3, 230, 20),
        ((x * y * 37) % 256),
    ]
    image = np.stack(planes[:channels], axis=-1) + rng.integers(-12, 13, size=(height, width, channels))
    return np.clip(image, 0, 255).astype(np.uint8)


def png_chunk(kind, payload):
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)


def raw_png(samples, color_type, bit_depth, width=None, height=None, extra=b""):
    """A PNG written by hand (PIL cannot write 16-bit RGB/RGBA/LA): `samples` is H x W x C of the
    bit depth's dtype, stored big-endian, filter type 0 on each row."""
    data = samples.astype(">u2" if bit_depth == 16 else np.uint8)
    data = data.reshape(samples.shape[0], -1).view(np.uint8)
    height, width = samples.shape[:2] if height is None else (height, width)
    raw = b"".join(b"\x00" + row.tobytes() for row in data)
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + extra
            + png_chunk(b"IDAT", zlib.compress(raw)) + png_chunk(b"IEND", b""))


def exif_bytes(orientation, big_endian=False):
    """A minimal TIFF structure with IFD0 holding only Orientation (SHORT)."""
    e = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0)
    tiff += struct.pack(e + "I", 0)
    return tiff


manifest = {"images": [], "masks": [], "bad": []}


def expect_image(name):
    im = Image.open(OUT / name)
    im.load()
    rgb = np.asarray(ImageOps.exif_transpose(im).convert("RGB"))
    (OUT / f"{name}.rgb").write_bytes(rgb.tobytes())
    manifest["images"].append({"file": name, "expected": f"{name}.rgb", "width": rgb.shape[1], "height": rgb.shape[0]})


def save_pil(name, image, **options):
    image.save(OUT / name, **options)
    expect_image(name)


def save_bytes(name, data, expect=True):
    (OUT / name).write_bytes(data)
    if expect:
        expect_image(name)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    rgb = Image.fromarray(pattern())
    gray = Image.fromarray(pattern(channels=1)[..., 0])

    # JPEG: what PIL decodes with its libjpeg-turbo.
    save_pil("gray.jpg", gray, quality=90)
    save_pil("rgb420.jpg", rgb, quality=90, subsampling=2)
    save_pil("rgb422.jpg", rgb, quality=90, subsampling=1)
    save_pil("rgb444.jpg", rgb, quality=95, subsampling=0)
    save_pil("progressive.jpg", rgb, quality=85, progressive=True)
    save_pil("cmyk.jpg", Image.fromarray(pattern(channels=4), "CMYK"), quality=90)
    for orientation in range(1, 9):
        save_pil(f"exif{orientation}.jpg", rgb, quality=90, exif=b"Exif\x00\x00" + exif_bytes(orientation))
    save_pil("exif6_motorola.jpg", rgb, quality=90, exif=b"Exif\x00\x00" + exif_bytes(6, big_endian=True))

    # PNG: 8-bit modes through PIL, 16-bit and odd ones by hand.
    save_pil("gray8.png", gray)
    save_pil("gray1.png", gray.point(lambda v: 255 if v > 128 else 0).convert("1"))
    save_pil("gray_alpha8.png", Image.fromarray(pattern(channels=2), "LA"))
    save_pil("rgb8.png", rgb)
    save_pil("rgba8.png", Image.fromarray(pattern(channels=4), "RGBA"))
    palette_image = rgb.quantize(colors=12)
    save_pil("palette_trns.png", palette_image, transparency=3)
    save_pil("palette4.png", rgb.quantize(colors=16), bits=4)
    save_pil("gray8_trns.png", gray, transparency=20)
    wide = pattern(channels=4).astype(np.uint16) * 257 + np.arange(W, dtype=np.uint16)[None, :, None]
    save_bytes("rgb16.png", raw_png(wide[..., :3], 2, 16))
    save_bytes("rgba16.png", raw_png(wide, 6, 16))
    save_bytes("gray_alpha16.png", raw_png(wide[..., :2], 4, 16))
    gray16 = (pattern(channels=1)[..., 0].astype(np.uint16) * 3)  # 0...765: PIL clips above 255
    save_bytes("gray16.png", raw_png(gray16[..., None], 0, 16))
    save_pil("exif6.png", rgb, exif=b"Exif\x00\x00" + exif_bytes(6))

    # Masks: indexed (DAVIS), gray 0/255, RGB.
    ids = np.zeros((H, W), np.uint8)
    ids[1:5, 2:8] = 1
    ids[5:8, 6:12] = 2
    ids[0, 12] = 3
    davis = []
    for i in range(256):
        r = g = b = 0
        c = i
        for j in range(8):
            r |= ((c >> 0) & 1) << (7 - j)
            g |= ((c >> 1) & 1) << (7 - j)
            b |= ((c >> 2) & 1) << (7 - j)
            c >>= 3
        davis += [r, g, b]
    indexed = Image.fromarray(ids, "P")
    indexed.putpalette(davis)
    indexed.save(OUT / "mask_davis.png")
    Image.fromarray(np.where(ids > 0, 255, 0).astype(np.uint8)).save(OUT / "mask_gray.png")
    colored = np.zeros((H, W, 3), np.uint8)
    colored[ids == 1] = (200, 0, 0)
    colored[ids == 2] = (0, 0, 1)
    colored[ids == 3] = (0, 77, 0)
    Image.fromarray(colored).save(OUT / "mask_rgb.png")
    for name in ["mask_davis.png", "mask_gray.png", "mask_rgb.png"]:
        stem = name[:-4]
        values = np.asarray(Image.open(OUT / name))
        (OUT / f"{stem}.mask").write_bytes((values.reshape(H, W, -1).max(axis=2) > 0).astype(np.uint8).tobytes())
        entry = {"file": name, "mask": f"{stem}.mask", "width": W, "height": H}
        if values.ndim == 2:
            (OUT / f"{stem}.index").write_bytes(values.astype(np.uint8).tobytes())
            entry["index"] = f"{stem}.index"
        manifest["masks"].append(entry)
    with open(OUT / "davis_palette.json", "w") as f:
        json.dump(davis, f)

    # Bad input.
    jpeg = (OUT / "rgb420.jpg").read_bytes()
    png = (OUT / "rgb8.png").read_bytes()
    bad = {
        "empty.png": (b"", "empty"),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "truncated_header.jpg": (jpeg[:40], "truncated"),
        "truncated.png": (png[: len(png) // 2], "truncated"),
        "not_an_image.jpg": (b"hello, this is text\n", "unknownFormat"),
        "image.gif": (b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "unknownFormat"),
        "bad_crc.png": (png[:29] + bytes([png[29] ^ 0xFF]) + png[30:], "corrupt"),
        "giant.png": (raw_png(np.zeros((1, 1, 1), np.uint8), 0, 8, width=40000, height=40000), "tooLarge"),
    }
    # A real JPEG whose SOF says 40000 x 40000.
    sof = jpeg.index(b"\xff\xc0")
    bad["giant.jpg"] = (jpeg[: sof + 5] + struct.pack(">HH", 40000, 40000) + jpeg[sof + 9:], "tooLarge")
    # Memory bombs (refused from the header, before anything is allocated for them): a PNG and a real
    # JPEG whose headers claim 22000 x 22000 and 30000 x 16000 (above the default 50 megapixels), and a
    # PNG whose tEXt (or eXIf) chunk claims 2 GiB right after IHDR: libpng would allocate it whole before
    # reading it; the file ends there, so the error is "truncated", after no allocation.
    bad["bomb_22000.png"] = (raw_png(np.zeros((1, 1, 1), np.uint8), 0, 8, width=22000, height=22000), "tooLarge")
    bad["bomb_30000x16000.jpg"] = (jpeg[: sof + 5] + struct.pack(">HH", 16000, 30000) + jpeg[sof + 9:], "tooLarge")
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0))
    for kind in [b"tEXt", b"eXIf"]:
        name = kind.decode().lower() + "_chunk_2gib.png"
        bad[name] = (b"\x89PNG\r\n\x1a\n" + ihdr + struct.pack(">I", 0x7FFFFFFF) + kind + b"ab", "truncated")
    for name, (data, kind) in bad.items():
        (OUT / name).write_bytes(data)
        manifest["bad"].append({"file": name, "error": kind})

    # numpy-written .npy files for the reader.
    values = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11.5) / 3
    np.save(OUT / "numpy_f4.npy", values)
    np.save(OUT / "numpy_f8.npy", values.astype(np.float64))
    np.save(OUT / "numpy_f4_1d.npy", np.array([1.5, -2.25, np.inf], np.float32))
    np.save(OUT / "numpy_fortran.npy", np.asfortranarray(values))
    np.save(OUT / "numpy_i4.npy", np.arange(6, dtype=np.int32))

    with open(OUT / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total} bytes, in {OUT}")


if __name__ == "__main__":
    main()
