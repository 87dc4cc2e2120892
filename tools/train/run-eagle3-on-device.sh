#!/usr/bin/env bash
# The command run on the GPU machine for the EAGLE-3 head (issue #24): train it, export the GGUF,
# and copy it with its report and log to $OUT (the head is about 5 MB, so no splitting).
# Needs PyTorch and numpy there, plus gguf-py from the bundled llama.cpp: pass
# carry ["native/.llama-src/gguf-py"] (the folder is git-ignored, so it does not travel by itself).
set -euo pipefail
export PYTHONUNBUFFERED=1
work=/tmp/verispec-eagle3
python3 tools/train/eagle3.py "$work" 2>&1 | tee "$OUT/eagle3.log"
cp "$work/verispec-eagle3.gguf" "$work/report.json" "$OUT/"
ls -l "$OUT"
