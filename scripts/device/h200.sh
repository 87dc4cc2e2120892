#!/usr/bin/env bash
# Runs verispec on the GPU machine lent through the `device` tool (an H200, no Node, no network).
# What travels there (git-ignored, made here by `bash scripts/device/pack.sh`): .device/node.xz (this machine's
# node, stripped), .device/node-include (N-API headers), .device/llama-src.tar.xz (node-llama-cpp's bundled
# llama.cpp source, trimmed), .device/app.tar.xz (dist/ and the few runtime packages), .device/humaneval.jsonl.
#   bash scripts/device/h200.sh setup    # Node, llama.cpp with CUDA for sm_90 + its tools, the binding, the 7B cost-equivalent target
#   bash scripts/device/h200.sh probe    # devices, llama.cpp's pass-cost curve, a first GPU generation   (writes $OUT)
#   bash scripts/device/h200.sh profile  # where a step's time goes, CUDA graphs on and off              (writes $OUT)
#   bash scripts/device/h200.sh head_to_head ["policies"] [secs] # verispec beside llama.cpp's programs, 20 x 3, one run (writes $OUT)
#   bash scripts/device/h200.sh head_to_head_more  # the other variants and T = 0.8, 20 x 1                 (writes $OUT)
#   bash scripts/device/h200.sh vocab128k [secs]   # per-row overhead with a 128,256-token random pair      (writes $OUT)
#   bash scripts/device/h200.sh bench    # call latencies, then verispec's main variants into $OUT/gpu-h200   (writes $OUT)
#   bash scripts/device/h200.sh peers    # llama.cpp's programs and the other variants, T = 0.8            (writes $OUT)
#   bash scripts/device/h200.sh serve    # verispec serve under bounded load at concurrency 1..8           (writes $OUT)
#   bash scripts/device/h200.sh candidates           # prompt lookup first against the draft model alone, 8 x 1  (writes $OUT)
#   bash scripts/device/h200.sh sampled              # greedy and T = 0.8 side by side, 20 x 1                 (writes $OUT)
#   bash scripts/device/h200.sh serve_lookup         # serve, adaptive with and without lookup first, target alone (writes $OUT)
#   bash scripts/device/h200.sh serve_scaling [n]    # serve at concurrency 1..8, n requests a level         (writes $OUT)
#   bash scripts/device/h200.sh invariant ["policies"] [secs] [repeats] [folder] # --batch-invariant: identity and speed (writes $OUT)
#   bash scripts/device/h200.sh pass_shapes          # a pass's cost when its shape repeats or changes      (writes $OUT)
#   bash scripts/device/h200.sh serve_diagnose       # where a served step's time goes, by concurrency       (writes $OUT)
#   bash scripts/device/h200.sh serve_final [variants] [name] # serve by concurrency: adaptive, chain k = 8, the target alone (writes $OUT)
#   bash scripts/device/h200.sh serve_peer [n] [k]   # llama-server (same source, model, draft, slots) under the same load
#   bash scripts/device/h200.sh served_pass          # a served pass and a joining prompt's share of it, by cache layout (writes $OUT)
#   bash scripts/device/h200.sh served_identity      # greedy text under concurrency against each request alone and the target alone (writes $OUT)
# Each phase is idempotent: on a machine still warm from an earlier call, setup only unpacks the new app.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_HOME=/opt/verispec-node
NODE=$NODE_HOME/bin/node
TARGET_7B=/opt/verispec-models/target-7b.gguf
DRAFT=models/verispec-draft.gguf
OUT=${OUT:-/tmp/out}
export VERISPEC_LLAMA_BUILD=cuda VERISPEC_NODE_INCLUDE=$NODE_HOME/include/node
# llama.cpp's programs find the build's libraries wherever the tree lies.
export LD_LIBRARY_PATH=$PWD/native/.llama-build/cuda/bin${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

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
    # llama-server too, as the serving peer; if it does not build, the rest still does.
    $NODE scripts/buildLlama.mjs --backend cuda --tools --server --jobs 16 >/tmp/build.log 2>&1 || {
      tail -15 /tmp/build.log
      $NODE scripts/buildLlama.mjs --backend cuda --tools --jobs 16 >/tmp/build.log 2>&1 || { tail -40 /tmp/build.log; exit 1; }
    }
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

# The cost of one drafter and one target call through the binding, GPU and CPU, at 1 and 8 CPU threads; sets
# THREADS and DRAFT_DEVICE to the fastest drafter setting for the runs that follow.
latency() {
  node_() { $NODE dist/bench/callLatency.js "$@"; }
  node_ --model $DRAFT,$TARGET_7B --device gpu --threads 1,8 --calls 200 | tee "$OUT/call-latency.txt"
  node_ --model $DRAFT --device cpu --threads 1,4,8 --calls 200 | tee -a "$OUT/call-latency.txt"
  read -r DRAFT_DEVICE THREADS < <(grep '"model":"verispec-draft"' "$OUT/call-latency.txt" | $NODE -e '
    const rows = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    rows.sort((a, b) => a.meanMs - b.meanMs);
    console.log(rows[0].device, rows[0].threads);')
  echo "drafter: $DRAFT_DEVICE, $THREADS threads" | tee -a "$OUT/call-latency.txt"
}

common() {
  echo --target $TARGET_7B --draft $DRAFT --device gpu --draft-device "$DRAFT_DEVICE" --threads "$THREADS" \
    --prompts .device/humaneval.jsonl --trim-prompts --max-tokens 128 --no-figures
}

# verispec's main variants, greedy, 20 prompts x 3 repeats (SIGINT after 240 s keeps what finished).
bench() {
  mkdir -p "$OUT"
  latency
  timeout -s INT 240 $NODE dist/src/cli/main.js bench $(common) --limit 20 --repeats 3 \
    --policies "target-only,chain:2,chain:4,chain:8,tree:4,adaptive:4" --out "$OUT/gpu-h200" 2>&1 | grep -v '^\[' || true
}

# Each variant's tokens/s and where a step's time went (summary.json's stepMs), from a bench output folder.
show_split() {
  $NODE -e '
    const s = JSON.parse(require("fs").readFileSync(process.argv[1] + "/summary.json", "utf8"));
    for (const v of s.variants) {
      const m = v.stepMs ? Object.entries(v.stepMs).map(([k, x]) => `${k} ${x.toFixed(2)}`).join(", ") : "";
      const id = v.identicalToTargetOnly ? `, identical ${v.identicalToTargetOnly.identical}/${v.identicalToTargetOnly.compared}` : "";
      console.log(`${v.variant}: ${v.tokensPerSecond.toFixed(1)} t/s (${(v.speedup ?? 0).toFixed(2)}x), ${(v.meanAcceptedPerBlock ?? Number.NaN).toFixed(2)}/block${id}; ms/step: ${m}`);
    }' "$1"
}

# One GPU bench into $OUT/<folder>, both models on the GPU with 8 threads, stopped by SIGINT after <secs> (the
# rows finished so far are kept), then its time split: gpu_bench <folder> <secs> <bench options...>.
gpu_bench() {
  local folder=$1 secs=$2
  shift 2
  mkdir -p "$OUT"
  DRAFT_DEVICE=gpu THREADS=8
  timeout -s INT "$secs" $NODE dist/src/cli/main.js bench $(common) "$@" --out "$OUT/$folder" >/dev/null 2>&1 || true
  show_split "$OUT/$folder"
}

# Where a step's time goes, with llama.cpp's CUDA graphs on and off: 8 prompts x 1, three variants.
profile() {
  mkdir -p "$OUT"
  latency
  for graphs in on off; do
    local env=()
    [ $graphs = off ] && env=(GGML_CUDA_DISABLE_GRAPHS=1)
    env "${env[@]}" timeout -s INT 100 $NODE dist/src/cli/main.js bench $(common) --limit 8 --repeats 1 \
      --policies "target-only,chain:4,chain:8,adaptive:4" --out "$OUT/profile-graphs-$graphs" >/dev/null 2>&1 || true
    echo "== CUDA graphs $graphs"
    show_split "$OUT/profile-graphs-$graphs"
  done
}

# llama.cpp's programs (a process and a model load per generation) beside verispec's target-only and chain k=4,
# then the remaining verispec variants and T = 0.8, 20 prompts x 1 repeat each.
peers() {
  mkdir -p "$OUT"
  latency >/dev/null
  timeout -s INT 280 $NODE dist/src/cli/main.js bench $(common) --limit 20 --repeats 1 \
    --policies "target-only,chain:4,llamacpp-target-only,llamacpp-spec:2,llamacpp-spec:4,llamacpp-spec:8" --out "$OUT/gpu-h200-llamacpp" 2>&1 | grep -v '^\[' || true
  timeout -s INT 150 $NODE dist/src/cli/main.js bench $(common) --limit 20 --repeats 1 --temperatures 0,0.8 --head models/verispec-head.json \
    --policies "target-only,chain:4,adaptive:4,heuristic:4,cascade:4,adaptive+head:4" --out "$OUT/gpu-h200-more" 2>&1 | grep -v '^\[' || true
}

# One bench-serve into <dir> within <secs>, its progress bars left out: served <dir> <secs> <bench-serve options...>.
served() {
  local dir=$1 secs=$2
  shift 2
  timeout "$secs" $NODE dist/src/cli/main.js bench-serve "$@" --out "$dir" 2>&1 | grep -v '^\[' || true
}

# The folder <name> under $OUT into $OUT/<name>.tar (the device tool brings back few files), then removed.
tar_out() {
  tar -cf "$OUT/$1.tar" -C "$OUT" "$1" && rm -rf "${OUT:?}/$1"
}

# verispec serve (8 slots, the 7B cost-equivalent target) under bounded load: adaptive, and the target alone.
serve_common() {
  echo --prompts .device/humaneval.jsonl --limit 32 --requests 16 --concurrency 1,2,4,8 --max-tokens 128 --threads 8 --no-figures
}
serve() {
  mkdir -p "$OUT"
  local v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  served "$OUT/serve-h200" 150 $(serve_common) $v --policy adaptive
  served "$OUT/serve-h200-target-only" 120 $(serve_common) $v --draft none --policy chain
}

# llama-server from the same source as a peer: the same model, draft (k up to <k>, 4 by default), 8 slots, and
# either serve_common's load or, with <n>, serve_scaling's (n requests a level); into $OUT/peer.tar with <n>.
serve_peer() {
  mkdir -p "$OUT"
  local bin=native/.llama-build/cuda/bin n=${1:-} k=${2:-4}
  [ -x $bin/llama-server ] || { echo "llama-server was not built"; return 0; }
  local load dir=$OUT
  if [ -n "$n" ]; then
    load="--prompts .device/humaneval.jsonl --limit 40 --requests $n --concurrency 1,2,4,8 --max-tokens 128 --threads 8 --no-figures"
    dir=$OUT/peer && mkdir -p $dir
  else load=$(serve_common); fi
  for mode in spec target-only; do
    local draft_args=()
    [ $mode = spec ] && draft_args=(-md $DRAFT -ngld 99 --spec-draft-n-max $k)
    $bin/llama-server -m $TARGET_7B -ngl 99 "${draft_args[@]}" -np 8 -c 8192 --host 127.0.0.1 --port 8090 --no-webui >"$dir/llama-server-$mode.log" 2>&1 &
    local pid=$!
    $NODE -e 'const t=Date.now();(async()=>{for(;;){try{if((await fetch("http://127.0.0.1:8090/health")).ok)return}catch{}if(Date.now()-t>120000)process.exit(1);await new Promise(r=>setTimeout(r,500))}})()' || echo "llama-server did not come up"
    served "$dir/llama-server-$mode-${n:-16}" 150 $load --url http://127.0.0.1:8090 --model llama-server
    kill $pid; sleep 2
  done
  if [ -n "$n" ]; then tar_out peer; fi
}

# verispec serve by concurrency, 64 requests a level (serve_scaling's load): the variants named (default all three:
# adaptive with lookup first, the CLI's default; chain k = 8 with lookup first; the target alone); into
# $OUT/<name>.tar (default final).
serve_final() {
  local variants=${1:-adaptive,chain8,target-only} name=${2:-final}
  mkdir -p "$OUT/$name"
  local d=$OUT/$name v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  local load="--prompts .device/humaneval.jsonl --limit 40 --requests 64 --concurrency 1,2,4,8 --max-tokens 128 --threads 8 --no-figures"
  for variant in ${variants//,/ }; do
    case $variant in
      adaptive) served "$d/adaptive-lookup-64" 120 $load $v --policy adaptive ;;
      chain8) served "$d/chain8-lookup-64" 110 $load $v --policy chain --k 8 ;;
      target-only) served "$d/target-only-64" 150 $load $v --draft none --policy chain ;;
      *) echo "unknown variant $variant" ;;
    esac
  done
  tar_out "$name"
}

# A quick look after changes: 8 prompts x 1, target-only, chain k=4 and adaptive (a bench variant's
# generations share the adaptive policy's memory).
quick() {
  gpu_bench quick "${1:-90}" --limit 8 --repeats 1 --policies "target-only,chain:4,adaptive:4"
}

# The other variants, T = 0.8 too, and llama-speculative-simple at k = 2 and 8: 20 prompts x 1 (about 8 minutes:
# give it a call of its own; with 240 s, session 4 got 19 prompts of the greedy variants only).
head_to_head_more() {
  gpu_bench gpu-h200-more 560 --limit 20 --repeats 1 --temperatures 0,0.8 --head models/verispec-head.json \
    --policies "target-only,chain:2,chain:4,tree:4,heuristic:4,cascade:4,adaptive:4,adaptive+head:4,llamacpp-spec:2,llamacpp-spec:8"
}

# Per-row overhead at a 128,256-token vocabulary: a random pair (bench/randomPair.ts), its target grown to the
# 7B shape, target-only and chain k=4, 10 prompts x 1, 64 tokens: row work, hand-offs and JavaScript per step
# against the pass.
vocab128k() {
  mkdir -p "$OUT"
  local dir=/opt/verispec-models/random-128k
  [ -f $dir/target-7b.gguf ] || {
    $NODE dist/bench/randomPair.js --out $dir --vocab 128256
    $NODE dist/src/cli/main.js embed-target --source $dir/target.gguf --shape 7b --out $dir/target-7b.gguf
  }
  timeout -s INT "${1:-150}" $NODE dist/src/cli/main.js bench --target $dir/target-7b.gguf --draft $dir/draft.gguf --device gpu --threads 8 \
    --prompts .device/humaneval.jsonl --trim-prompts --max-tokens 64 --no-figures --limit 10 --repeats 1 \
    --policies "target-only,chain:4,adaptive:4" --out "$OUT/vocab128k-h200" >/dev/null 2>&1 || true
  show_split "$OUT/vocab128k-h200"
}

# Prompt lookup first (LookupFirstDrafter, bench policies with +lookup) beside the draft model alone: 8 prompts x 1.
candidates() {
  gpu_bench candidates "${1:-150}" --limit 8 --repeats 1 \
    --policies "target-only,chain:4,chain:8,chain+lookup:4,chain+lookup:8,adaptive+lookup:4,adaptive+lookup:8"
}

# The head-to-head in one run with the policies given (default below: session 5's), 20 prompts x 3 repeats,
# llama.cpp's llama-speculative-simple at k = 4 and 8 among them; SIGINT before the call's limit (2nd argument)
# keeps the finished rows (the variants take turns within each prompt, so a cut repeat leaves every variant
# with the same prompts). Session 4 ran target-only,llamacpp-target-only,llamacpp-spec:4,chain:4,chain:8,adaptive:4.
head_to_head() {
  gpu_bench gpu-h200 "${2:-560}" --limit 20 --repeats 3 \
    --policies "${1:-target-only,llamacpp-spec:4,llamacpp-spec:8,chain:4,chain:8,chain+lookup:8,adaptive+lookup:8}"
}

# Batch invariance (--batch-invariant, scripts/llamaPatches.mjs): greedy identity to target-only and speed, in one
# run beside llama.cpp's stock programs. Arguments: policies, seconds, repeats, output folder.
invariant() {
  gpu_bench "${4:-invariant}" "${2:-150}" --batch-invariant --limit 20 --repeats "${3:-1}" \
    --policies "${1:-target-only,llamacpp-target-only,chain:4,chain+lookup:8,adaptive+lookup:8,tree:4}"
}

# Greedy and T = 0.8 side by side, 20 prompts x 1 (session 5, after sampled drafting runs in one native call).
sampled() {
  gpu_bench sampled "${1:-300}" --limit 20 --repeats 1 --temperatures 0,0.8 \
    --policies "target-only,chain:4,chain+lookup:4,chain+lookup:8,adaptive+lookup:8"
}

# verispec serve with prompt lookup first (the CLI's default) and without, adaptive, beside the target alone.
serve_lookup() {
  mkdir -p "$OUT"
  local v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  served "$OUT/serve-h200-adaptive-lookup" 140 $(serve_common) $v --policy adaptive
  served "$OUT/serve-h200-adaptive" 140 $(serve_common) $v --policy adaptive --no-lookup-first
  served "$OUT/serve-h200-target-only" 110 $(serve_common) $v --draft none --policy chain
}

# Serving throughput by concurrency with <n> requests per level (default 64: 8 per slot at concurrency 8, so the
# first wave's prefill and the last wave's tail weigh less than with 16): adaptive with lookup first (the CLI's
# default), and the target alone.
serve_scaling() {
  mkdir -p "$OUT"
  local n=${1:-64} v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  local load="--prompts .device/humaneval.jsonl --limit 40 --requests $n --concurrency 1,2,4,8 --max-tokens 128 --threads 8 --no-figures"
  served "$OUT/serve-h200-adaptive-lookup-$n" 200 $load $v --policy adaptive
  served "$OUT/serve-h200-target-only-$n" 200 $load $v --draft none --policy chain
}

# Where a served step's time goes by concurrency (bench-serve's step table): the target's pass-cost curve up to
# 192 tokens, adaptive with lookup first at 1, 2, 4, 8 (64 requests a level), the target alone and chain k = 8 at
# 1 and 8; everything in $OUT/diagnose.tar (the device tool brings back few files).
serve_diagnose() {
  mkdir -p "$OUT/diagnose"
  local d=$OUT/diagnose v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  local load="--prompts .device/humaneval.jsonl --limit 40 --max-tokens 128 --threads 8 --no-figures"
  native/.llama-build/cuda/bin/llama-bench -m $TARGET_7B -ngl 99 -p 1,2,4,8,16,24,32,48,64,96,128,192 -n 0 -d 256 -r 3 -o md >"$d/pass-cost-curve.md" 2>/dev/null || true
  cat "$d/pass-cost-curve.md"
  served "$d/adaptive-lookup-64" 150 $load --requests 64 --concurrency 1,2,4,8 $v --policy adaptive
  served "$d/target-only-64" 100 $load --requests 64 --concurrency 1,8 $v --draft none --policy chain
  served "$d/chain8-lookup-32" 60 $load --requests 32 --concurrency 1,8 $v --policy chain --k 8
  tar_out diagnose
}

# What a pass costs when its shape repeats (a CUDA graph replayed) and when it changes, drafter and target, with
# llama.cpp's CUDA graphs on and off (bench/passShapes.ts); then serving at concurrency 1 and 8 with graphs off.
pass_shapes() {
  mkdir -p "$OUT"
  local f=$OUT/pass-shapes.jsonl
  for graphs in on off; do
    local env=()
    [ $graphs = off ] && env=(GGML_CUDA_DISABLE_GRAPHS=1)
    env "${env[@]}" $NODE dist/bench/passShapes.js --model $DRAFT --sizes 1,2,4,8,16 --summary top --passes 200 | sed "s/^{/{\"graphs\":\"$graphs\",/" | tee -a $f
    env "${env[@]}" $NODE dist/bench/passShapes.js --model $TARGET_7B --sizes 1,8,16,28,48 --passes 60 | sed "s/^{/{\"graphs\":\"$graphs\",/" | tee -a $f
  done
}

# Serving at concurrency 1 and 8 with the native split per step: adaptive (and at 8 with CUDA graphs off), chain k = 8.
serve_probe() {
  mkdir -p "$OUT/probe"
  local d=$OUT/probe v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  local load="--prompts .device/humaneval.jsonl --limit 40 --max-tokens 128 --threads 8 --no-figures"
  served "$d/adaptive-lookup-64" 100 $load --requests 64 --concurrency 1,8 $v --policy adaptive
  served "$d/chain8-lookup-32" 60 $load --requests 32 --concurrency 8 $v --policy chain --k 8
  GGML_CUDA_DISABLE_GRAPHS=1 served "$d/adaptive-nographs-64" 60 $load --requests 64 --concurrency 8 $v --policy adaptive
  tar_out probe
}

# A served pass through the server's shared cache (bench/servedPass.ts): 7 slots verifying chains of 6 tokens, with
# and without a joining 107-token prompt, cells pinned and not, beside the same tokens in one sequence, at depths 200
# and 400; then serving at concurrency 1 and 8. Everything in $OUT/served.tar. (Session 10 also ran it with a
# patch letting flash attention stop at each tile's last unmasked cell in short passes: no gain, not kept.)
served_pass() {
  mkdir -p "$OUT/served"
  local d=$OUT/served v="--target $TARGET_7B --draft $DRAFT --device gpu --context 1024"
  local load="--prompts .device/humaneval.jsonl --limit 40 --requests 64 --concurrency 1,8 --max-tokens 128 --threads 8 --no-figures"
  for depth in 200 400; do
    $NODE dist/bench/servedPass.js --model $TARGET_7B --depth $depth --passes 30 | grep '^{' | tee -a "$d/served-pass.jsonl"
  done
  served "$d/adaptive" 100 $load $v --policy adaptive
  tar_out served
}

# Greedy exactness under concurrency through the server's engine (bench/servedIdentity.ts): 24 prompts, 128
# tokens, 8 slots, adaptive / chain / tree / cascade taking turns; each concurrent text against the same request
# served alone and against the target alone; with --batch-invariant, then with the stock kernels; into
# $OUT/served-identity.jsonl.
served_identity() {
  mkdir -p "$OUT"
  local args="--target $TARGET_7B --draft $DRAFT --prompts .device/humaneval.jsonl --limit 24 --max-tokens 128 --slots 8 --device gpu --threads 8"
  for mode in --batch-invariant ""; do
    timeout 200 $NODE dist/bench/servedIdentity.js $args $mode 2>&1 | grep '^{' | tee -a "$OUT/served-identity.jsonl" || true
  done
}

# Greedy identity with the target's KV cache in float32 (20 prompts x 1 repeat).
identity() {
  mkdir -p "$OUT"
  DRAFT_DEVICE=gpu THREADS=8
  timeout -s INT 90 $NODE dist/src/cli/main.js bench $(common) --f32-cache --limit 20 --repeats 1 \
    --policies "target-only,chain:4,chain:8,tree:4,adaptive:4" --out "$OUT/gpu-h200-f32cache" 2>&1 | grep -v '^\[' || true
}

"$@"
