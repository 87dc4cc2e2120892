#!/usr/bin/env bash
# Packs what scripts/device/h200.sh needs on the GPU machine into .device/ (git-ignored; named in the device
# tool's `carry`). node.xz and llama-src.tar.xz are made once; app.tar.xz (dist/ and the runtime packages the
# CLI's generate, bench --no-figures and embed-target load) every time, after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p .device/node-include
if [ ! -f .device/node.xz ]; then
  cp "$(command -v node)" /tmp/verispec-node && strip /tmp/verispec-node
  xz -T0 -6 -c /tmp/verispec-node >.device/node.xz && rm /tmp/verispec-node
fi
include=$(dirname "$(dirname "$(command -v node)")")/include/node
cp "$include"/{node_api.h,node_api_types.h,js_native_api.h,js_native_api_types.h} .device/node-include/
if [ ! -f .device/llama-src.tar.xz ]; then
  node -e 'import("./scripts/llamaSource.mjs").then((m) => m.checkoutSource())'
  # tools/ui: only what CMake needs to embed a placeholder UI into llama-server (no npm, no download there).
  skip=(.git models docs media gguf-py benches tests conversion tools/ui/src tools/ui/tests tools/ui/static tools/ui/package.json tools/ui/package-lock.json)
  for b in vulkan sycl metal cann opencl webgpu hexagon openvino zdnn musa; do skip+=("ggml/src/ggml-$b"); done
  tar -C native/.llama-src "${skip[@]/#/--exclude=./}" -cJf .device/llama-src.tar.xz .
fi
# The commit that benchmark summaries record there (the tree travels without git).
node -e 'import("./dist/src/bench/benchOutput.js").then((m) => console.log(m.sourceCommit()))' >.device/commit
cp ../shared/bench/humaneval.jsonl ../shared/bench/mt-bench.jsonl .device/
# Runtime packages only, their ESM builds; the figure libraries stay here (verispec bench-report draws later).
packages=(@huggingface commander cli-progress string-width strip-ansi ansi-regex emoji-regex is-fullwidth-code-point csv-parse csv-stringify)
tar -cJf .device/app.tar.xz --exclude='dist/test' --exclude='*/dist/cjs' --exclude='*/dist/umd' --exclude='*/dist/iife' \
  dist "${packages[@]/#/node_modules/}"
du -ch .device/* | tail -1
