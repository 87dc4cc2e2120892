#!/usr/bin/env bash
# Runs verispec on the GPU machine lent through the `device` tool (an H200, no Node, no network).
# What travels there (git-ignored, made here by `bash scripts/device/pack.sh`): .device/node.xz (this machine's
# node, stripped), .device/node-include (N-API headers), .device/llama-src.tar.xz (node-llama-cpp's bundled
# llama.cpp source, trimmed), .device/app.tar.xz (dist/ and the few runtime packages), the prompt files.
#   bash scripts/device/h200.sh setup                  # Node, llama.cpp with CUDA for sm_90 (tools, llama-server), the binding, the 7B target and head
#   bash scripts/device/h200.sh bench <workload> [s]   # verispec's variants beside llama.cpp's toolbox, one run   (writes $OUT/<workload>.tar)
#   bash scripts/device/h200.sh use-head <gguf>        # writes another head of the embedded target (one just trained there) for the 7B shape
#   bash scripts/device/h200.sh train-wide [s]         # trains a wider head (s seconds in all, 420 by default; beside setup's build), and
#                                                      # uses it where it beats the shipped one ($OUT/wide-eagle3.gguf, wide-report.json, wide.log)
#   bash scripts/device/h200.sh eagle [s] [s2]         # the EAGLE-3 head in verispec and in llama.cpp, HumanEval T = 0, 0.8, then
#                                                      # T = 0 with repetition penalty 1.1 (writes $OUT/eagle.tar: eagle/summary.json, eagle/penalty/;
#                                                      # s2 = 0 skips it; REPEATS=n repeats, 2 by default)
#   STOCK=1 bash scripts/device/h200.sh bench ...      # the same with llama.cpp's stock CUDA kernels for verispec too (<workload>-stock.tar)
#   bash scripts/device/h200.sh serve [n]              # verispec serve beside llama-server's best speculative setting (writes $OUT/serve.tar)
# The tree and .device together pass the device tool's 64 MiB: `bash scripts/device/slim.sh out` before a call (back after).
# The models, the workloads and the variants are defined once, below. Each phase is idempotent: on a machine still
# warm from an earlier call, setup only unpacks the new app.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_HOME=/opt/verispec-node
NODE=$NODE_HOME/bin/node
OUT=${OUT:-/tmp/out}
export VERISPEC_LLAMA_BUILD=cuda VERISPEC_NODE_INCLUDE=$NODE_HOME/include/node
export VERISPEC_COMMIT=$(cat .device/commit 2>/dev/null || echo unknown)
export LD_LIBRARY_PATH=$PWD/native/.llama-build/cuda/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

# The models: the trained target inside the LLaMA-7B shape (zeros elsewhere: the embedded pair's text at a 7B
# model's cost per pass), the shipped drafter, and the shipped EAGLE-3 head written for the 7B shape (the
# same drafts at a 7B head's cost), all on the GPU.
TARGET_7B=/opt/verispec-models/target-7b.gguf
HEAD_7B=/opt/verispec-models/head-7b.gguf
DRAFT=models/verispec-draft.gguf
MODELS="--target $TARGET_7B --draft $DRAFT --device gpu --threads 8"

# The workloads: a prompt file and its settings, by name.
declare -A WORKLOADS=(
  [humaneval]="--prompts .device/humaneval.jsonl --limit 10 --trim-prompts --temperatures 0,0.8"
  [mt-bench]="--prompts .device/mt-bench.jsonl --limit 10 --temperatures 0,0.8"
  [humaneval-penalty]="--prompts .device/humaneval.jsonl --limit 10 --trim-prompts --temperatures 0 --repetition-penalty 1.1"
)

# verispec's variants (adaptive with both free sources and the model is the CLI's default), and llama.cpp's toolbox
# at its defaults and at settings that did well (draft model, n-gram types, chains), all through llama-server.
VERISPEC="target-only,adaptive+suffix+lookup,chain+suffix+lookup:8,${VERISPEC_EXTRA:-tree+suffix+lookup:4}"
LLAMACPP="llamacpp-target-only,llamacpp-spec[draft-simple],llamacpp-spec[draft-simple]:8,llamacpp-spec[ngram-mod]"
LLAMACPP+=",llamacpp-spec[ngram-mod|spec-ngram-mod-n-match=8|spec-ngram-mod-n-min=4]:32"
LLAMACPP+=",llamacpp-spec[ngram-mod,draft-simple]:8,llamacpp-spec[ngram-simple,draft-simple|spec-ngram-simple-size-n=3]:8"

# The EAGLE-3 head's set: verispec's policies drafting with it (free sources first in adaptive), the draft model's
# chain for reference, and llama.cpp's own draft-eagle3 with the same head file, each side's target alone.
# Chains of 3 beside 4 and 8: at T = 0.8 the shortest did best on both sides (bench/results/h100/eagle).
EAGLE="target-only,chain+eagle:3,chain+eagle:4,chain+eagle:8,tree+eagle:4,adaptive+eagle+suffix+lookup,chain+suffix+lookup:8"
EAGLE+=",llamacpp-target-only,llamacpp-spec[draft-eagle3]:3,llamacpp-spec[draft-eagle3]:4,llamacpp-spec[draft-eagle3]:8"

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
    $NODE scripts/buildLlama.mjs --backend cuda --tools --server --jobs 16 >/tmp/build.log 2>&1 || { tail -40 /tmp/build.log; exit 1; }
    echo "llama.cpp (CUDA sm_90, tools, llama-server) and the binding built in $((SECONDS - start)) s"
  fi
  local embed="$NODE dist/src/cli/main.js embed-target --source models/verispec-target.gguf --shape 7b"
  local head="--head models/verispec-eagle3.gguf --head-out $HEAD_7B"
  mkdir -p "$(dirname $TARGET_7B)"
  if [ ! -f $TARGET_7B ]; then
    $embed --out $TARGET_7B $head
  elif [ ! -f $HEAD_7B ]; then
    $embed $head
  fi
}

# A head of the embedded target other than the shipped one (e.g. one trained in this call) written for the 7B shape
# in its place, so that the eagle phase and llama.cpp's draft-eagle3 both draft with it.
use-head() {
  $NODE dist/src/cli/main.js embed-target --source models/verispec-target.gguf --shape 7b --head "$1" --head-out $HEAD_7B
}

# tools/train/eagle3.py --wide, compared with the shipped head on the same held-out sets; where eagle3_better.py
# prefers it, it replaces the shipped head for the 7B shape (after setup). Needs carry ["native/.llama-src/gguf-py"].
# Setup's build uses the CPU and this the GPU: `(bash scripts/device/h200.sh setup) & bash scripts/device/h200.sh
# train-wide; wait <pid>`, then use-head if it printed 1 (train-wide does it itself where setup ran before).
train-wide() {
  local work=/tmp/verispec-wide
  mkdir -p "$OUT"
  EAGLE3_TOTAL_SECONDS=${1:-420} EAGLE3_GEN_SECONDS=80 PYTHONUNBUFFERED=1 PYTHONPATH=native/.llama-src/gguf-py \
    python3 tools/train/eagle3.py $work --wide --compare models/verispec-eagle3.gguf >"$OUT/wide.log" 2>&1
  cp $work/verispec-eagle3.gguf "$OUT/wide-eagle3.gguf" && cp $work/report.json "$OUT/wide-report.json"
  local better
  better=$(python3 tools/train/eagle3_better.py $work/report.json)
  echo "the wider head replaces the shipped one: $better"
  if [ "$better" = 1 ] && [ -x $NODE ] && [ -f $TARGET_7B ]; then use-head $work/verispec-eagle3.gguf; fi
}

# The folder <name> under $OUT into $OUT/<name>.tar (the device tool brings back few files), then removed.
tar_out() {
  tar -cf "$OUT/$1.tar" -C "$OUT" "$1" && rm -rf "${OUT:?}/$1"
}

# One bench run into <dir> (<secs>, then SIGINT keeps the generations finished: the variants take turns within each
# prompt), 2 repeats, greedy identity under --batch-invariant (STOCK=1: stock kernels, as llama.cpp's programs
# always run), and its summary printed: each variant, each side's best, and the head's best on each side.
run_bench() {
  local dir=$1 secs=$2 policies=$3 invariant=--batch-invariant
  shift 3
  [ "${STOCK:-}" = 1 ] && invariant=""
  timeout -s INT "$secs" $NODE dist/src/cli/main.js bench "$@" --max-tokens 128 --repeats "${REPEATS:-2}" \
    $invariant --llama-peer server --no-figures --policies "$policies" --out "$dir" 2>&1 | grep -v '^\[' || true
  $NODE -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1] + "/summary.json", "utf8"));
    for (const v of s.variants) console.log(`${v.variant}: ${v.tokensPerSecond.toFixed(1)} t/s, ${(v.meanAcceptedPerBlock ?? NaN).toFixed(2)}/block${v.identicalToTargetOnly ? `, identical ${v.identicalToTargetOnly.identical}/${v.identicalToTargetOnly.compared}` : ""}`);
    for (const b of s.best ?? []) console.log(`T=${b.temperature}: ${b.verispec?.variant} / ${b.llamacpp?.variant} = ${b.ratio?.toFixed(3)}`);
    for (const b of s.best ?? []) if (b.eagle) console.log(`T=${b.temperature}, EAGLE-3 head: ${b.eagle.verispec.variant} / ${b.eagle.llamacpp.variant} = ${b.eagle.ratio.toFixed(3)}`);' "$dir"
}

# Every variant on a workload (writes $OUT/<workload>[-stock].tar).
bench() {
  local workload=$1 name=$1
  [ "${STOCK:-}" = 1 ] && name=$1-stock
  mkdir -p "$OUT"
  run_bench "$OUT/$name" "${2:-540}" "$VERISPEC,$LLAMACPP" $MODELS ${WORKLOADS[$workload]}
  tar_out "$name"
}

# The EAGLE-3 head's set on HumanEval at T = 0 and 0.8 (<secs>, default 330), then at T = 0 with the repetition
# penalty (<secs2>, default 150): about 8 minutes at most (writes $OUT/eagle[-stock].tar).
eagle() {
  local name=eagle models=$MODELS variants=$EAGLE
  [ "${STOCK:-}" = 1 ] && name=eagle-stock
  if [ ! -f $DRAFT ]; then  # a call whose tree had no room for the draft model: the head's variants alone
    models=${MODELS/--draft $DRAFT /} variants=${EAGLE/,chain+suffix+lookup:8/}
  fi
  mkdir -p "$OUT/$name"
  run_bench "$OUT/$name" "${1:-330}" "$variants" $models --eagle $HEAD_7B ${WORKLOADS[humaneval]}
  [ "${2:-150}" = 0 ] || run_bench "$OUT/$name/penalty" "${2:-150}" "$variants" $models --eagle $HEAD_7B ${WORKLOADS[humaneval-penalty]}
  tar_out "$name"
}

# verispec serve (8 slots; adaptive, the default) and llama-server with the draft model and n-gram drafting first
# (its best speculative setting in the bench), under the same load: <n> requests a level at concurrency 1, 4, 8.
serve() {
  local n=${1:-32} d=$OUT/serve bin=native/.llama-build/cuda/bin
  mkdir -p "$d"
  local load="--prompts .device/humaneval.jsonl --limit 40 --requests $n --concurrency 1,4,8 --max-tokens 128 --threads 8 --no-figures"
  timeout 200 $NODE dist/src/cli/main.js bench-serve $load $MODELS --context 1024 --policy adaptive --out "$d/verispec" 2>&1 | grep -v '^\[' || true
  $bin/llama-server -m $TARGET_7B -ngl 99 -md $DRAFT -ngld 99 --spec-type ngram-simple,draft-simple --spec-ngram-simple-size-n 3 \
    --spec-draft-n-max 8 -np 8 -c 8192 --host 127.0.0.1 --port 8090 >"$d/llama-server.log" 2>&1 &
  local pid=$!
  $NODE -e 'const t=Date.now();(async()=>{for(;;){try{if((await fetch("http://127.0.0.1:8090/health")).ok)return}catch{}if(Date.now()-t>120000)process.exit(1);await new Promise(r=>setTimeout(r,500))}})()' || echo "llama-server did not come up"
  timeout 200 $NODE dist/src/cli/main.js bench-serve $load --url http://127.0.0.1:8090 --model llama-server --out "$d/llama-server" 2>&1 | grep -v '^\[' || true
  kill $pid || true
  tar_out serve
}

"$@"
