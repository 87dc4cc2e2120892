#!/usr/bin/env bash
# Acceptance of an eagle3 head in llama.cpp: llama-speculative-simple --spec-type draft-eagle3, greedy,
# 64 tokens on three short Python prompts; prints n_drafted, n_accept, accept per prompt.
# usage: bash tools/train/eagle3-spec-check.sh HEAD.gguf N_MAX LABEL   (logs in /tmp/spec-LABEL-*.log)
cd "$(dirname "$0")/../.."
B=native/.llama-build/cpu/bin; export LD_LIBRARY_PATH=$B
P1='import numpy as np


def softmax(x):
    """Compute the softmax of x along the last axis."""'
P2='class Stack:
    def __init__(self):
        self.items = []

    def push(self, item):'
P3='def read_config(path):
    """Read a JSON configuration file and return it as a dict."""'
for i in 1 2 3; do
  v=P$i
  nice -n 10 $B/llama-speculative-simple -m models/verispec-target.gguf -md "$1" --spec-type draft-eagle3 \
    -p "${!v}" -n 64 --temp 0 --spec-draft-n-max "$2" -c 512 -t 1 --seed 1 > /tmp/spec-$3-$i.log 2>&1
  echo "$3 prompt$i $(grep -E 'n_drafted|n_accept|accept    =' /tmp/spec-$3-$i.log | sed 's/.*I //' | tr '\n' ' ')"
done
