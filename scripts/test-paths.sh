#!/usr/bin/env bash
# The answer-quality tests again on every numeric path of the sentence models that this CPU
# can take besides its own: a floor that holds on one kind of machine only fails on every
# machine. The plain `cargo test` before it ran the CPU's own path (CITEBOT_PRECISION=auto):
#   AMX          -> bf16 tiles; here again on int8 (AVX-512 VNNI) and on f32
#   VNNI, no AMX -> int8;       here again on f32
#   neither      -> f32;        nothing else is worth forcing (int8 without VNNI is the same
#                               arithmetic as on VNNI, only slow)
# A debug build runs 8-bit on candle's tensors (CITEBOT_ROWS, src/encoder.rs); release builds
# run it on plain rows, which the lib tests hold to the reference networks (bert, e5) and
# docs/retrieval.md measures ("8-bit on plain rows").
# Called by scripts/test.sh (the README's test command) and .ci/run; arguments go to cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
quality=(--test retrieval --test ingestion --test documents)
paths=()
if grep -qw amx_bf16 /proc/cpuinfo 2>/dev/null; then
  paths+=(int8 f32)
elif grep -qw avx512_vnni /proc/cpuinfo 2>/dev/null; then
  paths+=(f32)
fi
if [ ${#paths[@]} -eq 0 ]; then
  echo "== this CPU runs f32 only: the quality tests above were its one path"
fi
for path in "${paths[@]}"; do
  echo "== the quality tests on the $path path (CITEBOT_PRECISION=$path)"
  CITEBOT_PRECISION=$path cargo test "$@" "${quality[@]}"
done
