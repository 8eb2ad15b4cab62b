#!/usr/bin/env python3
"""ONNX Runtime's int8 all-MiniLM-L6-v2 embedding the sentences of a knowledge folder: the
yardstick of `citebot bench`'s "embedding sentences/s" (issue 34 asks citebot for 1.8 times
it). Run by scripts/bench-vs-ort.sh, which puts both in one run on one machine.

    scripts/ort-bench.py KNOWLEDGE_DIR MODEL.onnx TOKENIZER.json [--threads 2] [--batch 32]

The sentences are each paragraph's, split after . ! or ? before a capital: the synthetic
corpus's sentences are plain, and the count printed says whether it matches citebot's.
"""
import argparse
import pathlib
import re
import time

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def sentences(folder):
    out = []
    for path in sorted(pathlib.Path(folder).iterdir()):
        if path.suffix not in (".txt", ".md"):
            continue
        text = path.read_text(encoding="utf-8")
        if text.startswith("+++"):
            text = text.split("+++", 2)[2]
        for paragraph in re.split(r"\n\s*\n", text):
            paragraph = " ".join(paragraph.split())
            if paragraph and not paragraph.startswith("#"):
                out += [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z])", paragraph) if s]
    return out


def run(session, tokenizer, texts, batch, ordered):
    order = sorted(range(len(texts)), key=lambda i: len(texts[i])) if ordered else range(len(texts))
    order = list(order)
    started = time.perf_counter()
    for b in range(0, len(order), batch):
        chunk = [texts[i] for i in order[b:b + batch]]
        enc = tokenizer.encode_batch(chunk)
        width = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), width), dtype=np.int64)
        mask = np.zeros((len(enc), width), dtype=np.int64)
        for r, e in enumerate(enc):
            ids[r, :len(e.ids)] = e.ids
            mask[r, :len(e.ids)] = 1
        states = session.run(None, {
            "input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids),
        })[0]
        m = mask[:, :, None].astype(np.float32)
        mean = (states * m).sum(1) / m.sum(1)
        mean /= np.linalg.norm(mean, axis=1, keepdims=True)
    return len(texts) / (time.perf_counter() - started)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("knowledge")
    p.add_argument("model")
    p.add_argument("tokenizer")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=32)
    a = p.parse_args()
    options = ort.SessionOptions()
    options.intra_op_num_threads = a.threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(a.model, options, providers=["CPUExecutionProvider"])
    tokenizer = Tokenizer.from_file(a.tokenizer)
    tokenizer.no_padding()
    tokenizer.enable_truncation(256)
    texts = sentences(a.knowledge)
    run(session, tokenizer, texts[:64], a.batch, True)  # warm-up
    print(f"onnxruntime {ort.__version__} int8 all-MiniLM-L6-v2, {a.threads} threads, "
          f"batches of {a.batch}, {len(texts)} sentences")
    print(f"  sorted by length: {run(session, tokenizer, texts, a.batch, True):.0f} sentences/s")
    print(f"  in file order:    {run(session, tokenizer, texts, a.batch, False):.0f} sentences/s")


if __name__ == "__main__":
    main()
