#!/usr/bin/env python3
"""Compares two folders written by scripts/figures.sh: the summaries to the letter, and each
question's details with every number rounded to 5 decimals. The same binary run twice
differs in the 7th or 8th digit of a score (tantivy builds the index in memory on several
threads, and BM25's statistics are summed in whatever order its segments come), so the
digits past the 5th say nothing about a change.

Usage: scripts/figures-diff.py BEFORE AFTER   (exit 0 and "same" when nothing moved)
"""
import json, os, sys


def rounded(value):
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


before, after = sys.argv[1], sys.argv[2]
differences = 0
for name in sorted(set(os.listdir(before)) | set(os.listdir(after))):
    a, b = os.path.join(before, name), os.path.join(after, name)
    if not (os.path.exists(a) and os.path.exists(b)):
        print(f"{name}: only in one folder")
        differences += 1
        continue
    lines_a, lines_b = open(a).read().splitlines(), open(b).read().splitlines()
    if name.endswith(".jsonl"):
        lines_a = [rounded(json.loads(l)) for l in lines_a]
        lines_b = [rounded(json.loads(l)) for l in lines_b]
    if len(lines_a) != len(lines_b):
        print(f"{name}: {len(lines_a)} lines before, {len(lines_b)} after")
        differences += 1
        continue
    for i, (x, y) in enumerate(zip(lines_a, lines_b)):
        if x != y:
            print(f"{name}:{i + 1}:\n  before {x}\n  after  {y}")
            differences += 1
print("same" if differences == 0 else f"{differences} differences")
sys.exit(0 if differences == 0 else 1)
