#!/usr/bin/env bash
# The command run on the GPU machine: train, then pack the results into at most 16 MiB parts under $OUT.
set -euo pipefail
export PYTHONUNBUFFERED=1
work=/tmp/verispec-train
python3 tools/train/train.py "$work" 2>&1 | tee "$OUT/train.log"
tar -C "$work" -cf /tmp/pair.tar .
split -b 15M -d /tmp/pair.tar "$OUT/pair.tar.part"
ls -l "$OUT"
