#!/usr/bin/env bash
# Every eval figure, with the meaning layer on and off, into one folder: the summaries and
# each question's details (its best passages and their signals). Run it before and after a
# change that must not move a figure, then `scripts/figures-diff.py BEFORE AFTER` ("same":
# nothing moved; it explains why the last digits of a score are not compared).
#
#   scripts/figures.sh OUT_DIR [CITEBOT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/figures.sh OUT_DIR [CITEBOT_BINARY]}
bin=${2:-target/release/citebot}
mkdir -p "$out"
for set in tests/data/*.jsonl; do
  name=$(basename "$set" .jsonl)
  for semantic in on off; do
    "$bin" --semantic "$semantic" eval "$set" --gold tests/data/passages.json \
      > "$out/$name.$semantic.txt"
    "$bin" --semantic "$semantic" eval "$set" --gold tests/data/passages.json --details \
      > "$out/$name.$semantic.details.jsonl"
  done
done
echo "figures in $out"
