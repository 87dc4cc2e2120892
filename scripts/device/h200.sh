#!/usr/bin/env bash
# Runs verispec on the GPU machine lent through the `device` tool (an H200, no Node, no network).
# What travels there (git-ignored, made here by `bash scripts/device/pack.sh`): .device/node.xz (this machine's
# node, stripped), .device/node-include (N-API headers), .device/llama-src.tar.xz (node-llama-cpp's bundled
# llama.cpp source, trimmed), .device/app.tar.xz (dist/ and the few runtime packages), .device/humaneval.jsonl.
#   bash scripts/device/h200.sh setup    # Node, llama.cpp with CUDA for sm_90 + its tools, the binding, the 7B cost-equivalent target
#   bash scripts/device/h200.sh probe    # devices, llama.cpp's pass-cost curve, a first GPU generation   (writes $OUT)
#   bash scripts/device/h200.sh bench    # the head-to-head benchmark into $OUT/gpu-h200                  (writes $OUT)
# Each phase is idempotent: on a machine still warm from an earlier call, setup only unpacks the new app.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_HOME=/opt/verispec-node
NODE=$NODE_HOME/bin/node
TARGET_7B=/opt/verispec-models/target-7b.gguf
DRAFT=models/verispec-draft.gguf
OUT=${OUT:-/tmp/out}
export VERISPEC_LLAMA_BUILD=cuda VERISPEC_NODE_INCLUDE=$NODE_HOME/include/node

setup() {
  if [ ! -x $NODE ]; then
    mkdir -p $NODE_HOME/bin $NODE_HOME/include/node
    xz -dc .device/node.xz >$NODE && chmod +x $NODE
    cp .device/node-include/* $NODE_HOME/include/node/
  fi
  tar -xJf .device/app.tar.xz
  if [ ! -f native/.llama-src/CMakeLists.txt ]; then mkdir -p native/.llama-src && tar -xJf .device/llama-src.tar.xz -C native/.llama-src; fi
  if [ ! -f native/.llama-build/cuda/verispec_llama.node ]; then
    local start=$SECONDS
    $NODE scripts/buildLlama.mjs --backend cuda --tools --jobs 16 >/tmp/build.log 2>&1 || { tail -40 /tmp/build.log; exit 1; }
    echo "llama.cpp (CUDA sm_90, tools) and the binding built in $((SECONDS - start)) s"
  fi
  if [ ! -f $TARGET_7B ]; then
    mkdir -p "$(dirname $TARGET_7B)"
    $NODE dist/src/cli/main.js embed-target --source models/verispec-target.gguf --shape 7b --out $TARGET_7B
  fi
}

probe() {
  mkdir -p "$OUT"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv >"$OUT/gpu.txt"
  $NODE dist/src/cli/main.js info >"$OUT/info.txt"
  local bin=native/.llama-build/cuda/bin
  # The pass-cost curve: a pass over n tokens at context depth 256, target and drafter.
  $bin/llama-bench -m $TARGET_7B -ngl 99 -p 1,2,3,5,9,17 -n 0 -d 256 -r 5 -o md >"$OUT/pass-cost-7b.md" 2>/dev/null
  $bin/llama-bench -m $DRAFT -ngl 99 -p 1,8 -n 16 -d 256 -r 5 -o md >"$OUT/pass-cost-draft.md" 2>/dev/null
  for mode in "--target-only" "--policy chain --k 4" "--policy adaptive" "--policy tree"; do
    echo "== $mode" >>"$OUT/generate.txt"
    $NODE dist/src/cli/main.js generate --target $TARGET_7B --draft $DRAFT --device gpu --threads 8 --max-tokens 128 $mode --json >>"$OUT/generate.txt"
  done
  cat "$OUT"/*.md "$OUT/info.txt"
  grep -E '"(text|tokensPerSecond|meanAcceptedPerBlock|draftSeconds|verifySeconds|otherSeconds)"' "$OUT/generate.txt"
}

bench() {
  mkdir -p "$OUT"
  local common=(--target $TARGET_7B --draft $DRAFT --device gpu --threads 8 --prompts .device/humaneval.jsonl --trim-prompts --max-tokens 128 --no-figures)
  # verispec's variants, greedy and T = 0.8, 20 prompts x 3 repeats.
  $NODE dist/src/cli/main.js bench "${common[@]}" --limit 20 --repeats 3 --temperatures 0,0.8 --head models/verispec-head.json \
    --policies "target-only,chain:2,chain:4,chain:8,heuristic:4,tree:4,cascade:4,adaptive:4,adaptive+head:4" --out "$OUT/gpu-h200" 2>&1 | grep -v '^\[' || true
  # llama.cpp's programs (a process and a model load per generation), with verispec's target-only and chain k=4 as anchors.
  $NODE dist/src/cli/main.js bench "${common[@]}" --limit 20 --repeats 1 \
    --policies "target-only,chain:4,llamacpp-target-only,llamacpp-spec:2,llamacpp-spec:4,llamacpp-spec:8" --out "$OUT/gpu-h200-llamacpp" 2>&1 | grep -v '^\[' || true
}

"$@"
