#!/usr/bin/env python3
# Fixture generator for SAM2CheckpointTests: writes small .pt / .safetensors / bad files and
# expected.json (keys, dtypes, shapes, float values) into Tests/SAM2CheckpointTests/Fixtures/.
# Run with the reference venv: tools/reference/.venv/bin/python tools/reference/make_checkpoint_fixtures.py
# Deterministic: fixed seeds, fixed zip timestamps; re-running rewrites identical files.

import collections
import io
import json
import os
import pathlib
import struct
import zipfile
import zlib

import torch
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "Tests" / "SAM2CheckpointTests" / "Fixtures"
# A command the malicious pickles would run if anything executed them; the tests check that the
# marker never appears.
PWNED_MARKER = "/tmp/swift_sam2_checkpoint_fixture_pwned"
EXPECTED = {}
FIXED_DATE = (2024, 1, 1, 0, 0, 0)


def describe(tensors):
    """Expected entries: dtype name, shape and the values as float32 (row-major)."""
    out = {}
    for key, t in tensors.items():
        out[key] = {
            "dtype": str(t.dtype).replace("torch.", ""),
            "shape": list(t.shape),
            "values": [float(v) for v in t.detach().to(torch.float32).contiguous().reshape(-1).tolist()],
        }
    return out


def torch_save(obj, name):
    buf = io.BytesIO()
    torch.save(obj, buf)
    data = buf.getvalue()
    (OUT / name).write_bytes(data)
    return data


def torch_members(data):
    """(name, bytes) of every member of a torch zip, in archive order."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i.filename)) for i in z.infolist()]


def rename_members(members, prefix):
    return [(prefix + "/" + n.split("/", 1)[1], d) for n, d in members]


class Unseekable:
    """A write-only stream: zipfile then writes data descriptors after each entry."""

    def __init__(self):
        self.buf = io.BytesIO()

    def write(self, b):
        return self.buf.write(b)

    def flush(self):
        pass


def write_descriptor_zip(members, name):
    """Data descriptors (unseekable stream), storages deflated, the rest stored."""
    sink = Unseekable()
    with zipfile.ZipFile(sink, "w") as z:
        for n, d in members:
            info = zipfile.ZipInfo(n, date_time=FIXED_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED if "/data/" in n or n.endswith(".pkl") else zipfile.ZIP_STORED
            z.writestr(info, d)
    data = sink.buf.getvalue()
    (OUT / name).write_bytes(data)
    return data


def write_zip64(members, name):
    """A zip whose every size and offset goes through zip64 fields: local headers and central
    directory entries carry 0xFFFFFFFF sentinels plus a zip64 extra field, and the archive ends
    with a zip64 end-of-central-directory record and locator. (Python's zipfile only does this for
    archives over 4 GiB, so it is written by hand.) Entries are stored; the first local header carries
    an extra 5-byte unknown field so that the float32 data is not 4-byte aligned (the reader must
    then copy)."""
    out = bytearray()
    central = bytearray()
    for i, (n, d) in enumerate(members):
        nb = n.encode()
        crc = zlib.crc32(d) & 0xFFFFFFFF
        offset = len(out)
        pad = b"\x99\x99\x01\x00\x00" if i == 0 else b""  # unknown extra field (id 0x9999, 1 byte)
        local_extra = struct.pack("<HHQQ", 1, 16, len(d), len(d)) + pad
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 0, 0, 0x2821, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(nb), len(local_extra))
        out += nb + local_extra + d
        cd_extra = struct.pack("<HHQQQ", 1, 24, len(d), len(d), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 0, 0, 0x2821, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(cd_extra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + cd_extra
    cd_offset = len(out)
    out += central
    eocd64_offset = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    (OUT / name).write_bytes(bytes(out))
    return bytes(out)


class Forged:
    """Pickles as a tensor over `storage` with any offset, size and stride, even ones torch refuses."""

    def __init__(self, storage, offset, size, stride):
        self.args = (storage, offset, size, stride, False, collections.OrderedDict())

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, self.args)


def write_declared_zip(members, name):
    """Members deflated, each declaring `declared` bytes uncompressed (None: its true size) through
    zip64 fields: (name, data, declared)."""
    out = bytearray()
    central = bytearray()
    for n, d, declared in members:
        nb = n.encode()
        packer = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = packer.compress(d) + packer.flush()
        size = len(d) if declared is None else declared
        crc = zlib.crc32(d) & 0xFFFFFFFF
        offset = len(out)
        local_extra = struct.pack("<HHQQ", 1, 16, size, len(packed))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, 8, 0, 0x2821, crc, 0xFFFFFFFF, 0xFFFFFFFF,
                           len(nb), len(local_extra))
        out += nb + local_extra + packed
        cd_extra = struct.pack("<HHQQQ", 1, 24, size, len(packed), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, 8, 0, 0x2821, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(nb), len(cd_extra), 0, 0, 0, 0, 0xFFFFFFFF)
        central += nb + cd_extra
    cd_offset = len(out)
    out += central
    eocd64_offset = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64_offset, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    (OUT / name).write_bytes(bytes(out))


def write_members_zip(members, name):
    with zipfile.ZipFile(OUT / name, "w", zipfile.ZIP_STORED) as z:
        for n, d in members:
            z.writestr(zipfile.ZipInfo(n, date_time=FIXED_DATE), d)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.iterdir():
        if old.is_file():
            old.unlink()
    torch.manual_seed(20240601)

    # 1. {"model": state_dict} with the layout cases, plus non-tensor top-level entries.
    base = torch.randn(4, 5)
    long_storage = torch.randn(12)
    sd = collections.OrderedDict()
    sd["image_encoder.trunk.patch_embed.proj.weight"] = torch.randn(3, 2, 3, 3)
    sd["image_encoder.trunk.patch_embed.proj.bias"] = torch.randn(3)
    sd["offset.slice"] = long_storage[5:9]  # storage offset 5, storage of 12 floats
    sd["transposed"] = torch.randn(3, 4).t()  # shape [4, 3], strides [1, 4]
    sd["strided.every_other"] = torch.randn(2, 8)[:, ::2]  # strides [8, 2]
    sd["shared.full"] = base  # both view one storage
    sd["shared.row2"] = base[2]  # offset 10
    sd["shared.column"] = base[:, 1]  # offset 1, stride 5
    sd["param"] = torch.nn.Parameter(torch.randn(2, 3))
    sd["scalar"] = torch.tensor(2.5)
    sd["empty"] = torch.zeros(0, 4)
    optimizer = {"state": {}, "param_groups": [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-8,
                                                 "amsgrad": False, "foreach": None, "params": [0, 1]}]}
    torch_save({"model": sd, "optimizer": optimizer, "epoch": 7, "note": "fixture"}, "model_wrapped.pt")
    EXPECTED["model_wrapped.pt"] = describe(sd)
    wrapped = (OUT / "model_wrapped.pt").read_bytes()

    # 2. A bare state dict as nn.Module.state_dict() returns it (OrderedDict with _metadata).
    module = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.LayerNorm(3), torch.nn.Linear(3, 2))
    for p in module.parameters():
        with torch.no_grad():
            p.copy_(torch.randn_like(p))
    bare = module.state_dict()
    torch_save(bare, "bare_state_dict.pt")
    EXPECTED["bare_state_dict.pt"] = describe(bare)

    # 3. Every dtype the reader converts.
    dt = collections.OrderedDict()
    dt["float32"] = torch.randn(2, 3)
    dt["float16"] = torch.randn(2, 3).to(torch.float16)
    dt["bfloat16"] = torch.randn(2, 3).to(torch.bfloat16)
    dt["float64"] = torch.randn(5).to(torch.float64)
    dt["int64"] = torch.tensor([-(2 ** 40), -3, 0, 7, 2 ** 20], dtype=torch.int64)
    dt["int32"] = torch.tensor([[-70000, 1], [2, 123456]], dtype=torch.int32)
    dt["int16"] = torch.tensor([-300, 300], dtype=torch.int16)
    dt["int8"] = torch.tensor([-128, 5, 127], dtype=torch.int8)
    dt["uint8"] = torch.tensor([0, 17, 255], dtype=torch.uint8)
    dt["bool"] = torch.tensor([True, False, True, True])
    dt["float16_transposed"] = torch.randn(3, 2).to(torch.float16).t()
    torch_save(dt, "dtypes.pt")
    EXPECTED["dtypes.pt"] = describe(dt)

    # 4. The same members as model_wrapped.pt in a zip64 archive, and with data descriptors +
    #    deflate (and a different archive prefix, as torch uses the file's stem).
    members = torch_members(wrapped)
    write_zip64(rename_members(members, "zip64"), "zip64.pt")
    EXPECTED["zip64.pt"] = EXPECTED["model_wrapped.pt"]
    write_descriptor_zip(rename_members(members, "descriptors"), "descriptors_deflated.pt")
    EXPECTED["descriptors_deflated.pt"] = EXPECTED["model_wrapped.pt"]

    # 5. safetensors with every dtype.
    st = collections.OrderedDict()
    st["b.float32"] = torch.randn(3, 4)
    st["a.float16"] = torch.randn(5).to(torch.float16)
    st["c.bfloat16"] = torch.randn(2, 2).to(torch.bfloat16)
    st["d.float64"] = torch.randn(3).to(torch.float64)
    st["e.int64"] = torch.tensor([-5, 2 ** 33], dtype=torch.int64)
    st["f.int32"] = torch.tensor([[1, -2, 3]], dtype=torch.int32)
    st["g.uint8"] = torch.tensor([1, 200], dtype=torch.uint8)
    st["h.bool"] = torch.tensor([False, True, True])
    st["i.scalar"] = torch.tensor(-1.25)
    save_file(st, str(OUT / "dtypes.safetensors"), metadata={"format": "pt"})
    EXPECTED["dtypes.safetensors"] = describe(st)

    # 6. Malicious pickles: they would create PWNED_MARKER if anything executed them.
    cmd = ("touch " + PWNED_MARKER).encode()
    os_system = b"\x80\x02cos\nsystem\nq\x00X" + struct.pack("<I", len(cmd)) + cmd + b"\x85R."
    body = (b"\x8c\x08builtins\x8c\x04eval\x93\x8c" + bytes([len(b"__import__('os').system('" + cmd + b"')")])
            + b"__import__('os').system('" + cmd + b"')\x85R.")
    builtins_eval = b"\x80\x04\x95" + struct.pack("<Q", len(body)) + body
    (OUT / "evil_os_system.pkl").write_bytes(os_system)
    (OUT / "evil_builtins_eval.pkl").write_bytes(builtins_eval)
    small = torch_members(torch_save({"w": torch.ones(2)}, "tmp.pt"))
    (OUT / "tmp.pt").unlink()
    evil = [(n, os_system if n.endswith("data.pkl") else d) for n, d in small]
    write_members_zip(evil, "evil_os_system.pt")
    evil = [(n, builtins_eval if n.endswith("data.pkl") else d) for n, d in small]
    write_members_zip(evil, "evil_builtins_eval.pt")

    class Evil:  # posix.system deep inside an otherwise valid state dict, pickled by torch.save
        def __reduce__(self):
            return (os.system, ("touch " + PWNED_MARKER,))

    torch_save({"model": {"ok": torch.ones(3), "payload": Evil()}}, "evil_nested.pt")

    # 7. Damaged and foreign files.
    (OUT / "truncated.pt").write_bytes(wrapped[: len(wrapped) * 2 // 3])
    corrupt = bytearray(wrapped)
    eocd = corrupt.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", corrupt, eocd + 16)[0]
    corrupt[cd_offset + 45] ^= 0x80  # high bit of the first entry's local header offset
    (OUT / "corrupt_central_directory.pt").write_bytes(bytes(corrupt))
    big = [(n, b"big" if n.endswith("/byteorder") else d) for n, d in small]
    write_members_zip(big, "big_endian.pt")

    def raw_safetensors(header, data, name):
        h = json.dumps(header, separators=(",", ":")).encode()
        h += b" " * (-len(h) % 8)
        (OUT / name).write_bytes(struct.pack("<Q", len(h)) + h + data)

    raw_safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 8,
                    "past_end.safetensors")
    raw_safetensors({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                     "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}, b"\x00" * 12,
                    "overlapping.safetensors")
    raw_safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\x00" * 8,
                    "size_mismatch.safetensors")
    raw_safetensors({"w": {"dtype": "Q7", "shape": [2], "data_offsets": [0, 2]}}, b"\x00" * 2,
                    "unknown_dtype.safetensors")
    # 8. Hostile checkpoints: sizes, strides and offsets that overflow, views that expand a few
    #    stored bytes into any amount of memory, members declaring far more than they hold.
    storage = torch.arange(1.0, 5.0)._typed_storage()  # 4 float32 values
    hostile = {
        "stride_2_62.pt": {"w": Forged(storage, 0, (2,), (2 ** 62,))},
        "offset_2_63.pt": {"w": Forged(storage, 2 ** 63 - 1, (1,), (1,))},
        "expanded_2_62.pt": {"a": Forged(storage, 0, (2 ** 62,), (0,)), "b": Forged(storage, 0, (2 ** 62,), (0,))},
    }
    for name, tensors in hostile.items():
        torch_save({"model": tensors}, name)
    zeros = bytes(1 << 20)
    real = torch_members(torch_save({"model": {"w": torch.arange(1.0, 5.0)}}, "tmp.pt"))
    (OUT / "tmp.pt").unlink()
    pickle_name, pickle_bytes = real[0]
    assert pickle_name.endswith("data.pkl")
    # A 1 TiB data.pkl in a few hundred bytes; a state dict's data/0 of 16 bytes redeclared as 1 TiB;
    # data/0 as 1 MiB of deflated zeros where the pickle says 4 floats; a 65 MiB data.pkl.
    write_declared_zip([(pickle_name, pickle_bytes, 1 << 40)], "pickle_declares_1tib.pt")
    write_declared_zip([(n, d, 1 << 40 if n.endswith("/data/0") else None) for n, d in real], "storage_declares_1tib.pt")
    write_declared_zip([(n, zeros if n.endswith("/data/0") else d, None) for n, d in real], "storage_zip_bomb.pt")
    write_declared_zip([(pickle_name, pickle_bytes, 65 << 20)], "pickle_65mib.pt")
    # A safetensors header length past the format's 100 MB limit (the file itself is small).
    header = b'{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'
    (OUT / "header_over_100mb.safetensors").write_bytes(struct.pack("<Q", 100_000_008) + header + b"\x00" * 4)

    g = torch.Generator().manual_seed(7)
    (OUT / "random.bin").write_bytes(bytes(torch.randint(0, 256, (600,), generator=g, dtype=torch.uint8).tolist()))

    EXPECTED["_pwned_marker"] = PWNED_MARKER
    (OUT / "expected.json").write_text(json.dumps(EXPECTED, indent=1, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} fixtures, {total} bytes, into {OUT}")


if __name__ == "__main__":
    main()
