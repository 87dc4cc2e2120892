#!/usr/bin/env bash
# Tokens per block in verispec, chain k = 8: the EAGLE-3 head (--draft eagle) against the 3.3M draft model, both without
# free sources (--no-lookup-first), on the first 10 HumanEval prompts (trimmed), 128 tokens, one thread, at T = 0.8
# by rejection sampling and by the coupled rule (seed 5), at T = 0 with --repetition-penalty 1.1, and at T = 0.
# usage: bash tools/train/eagle3-verispec.sh > table.txt      (after npm ci; ../shared/bench/humaneval.jsonl beside)
set -euo pipefail
cd "$(dirname "$0")/../.."
d=$(mktemp -d)
node -e 'const fs=require("fs");fs.readFileSync("../shared/bench/humaneval.jsonl","utf8").split("\n").filter(Boolean).slice(0,10).forEach((l,i)=>fs.writeFileSync(process.argv[1]+"/"+i+".txt",JSON.parse(l).prompt.trimEnd()))' $d
for s in "--temperature 0.8 --seed 5 --sampling-rule rejection" "--temperature 0.8 --seed 5" "--repetition-penalty 1.1" "--temperature 0"; do
  for dr in "--draft eagle --no-lookup-first" "--draft models/verispec-draft.gguf --no-lookup-first"; do
    tot=0; blocks=0
    for f in $d/*.txt; do
      r=$(nice -n 15 node dist/src/cli/main.js generate $dr --policy chain --k 8 $s --max-tokens 128 --threads 1 --prompt "$(cat $f)" --json 2>/dev/null | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);console.log(j.metrics.tokens, j.metrics.blocks)})')
      set -- $r; tot=$((tot+$1)); blocks=$((blocks+$2))
    done
    echo "$s | $dr | tokens $tot blocks $blocks | tpb $(node -e "console.log(($tot/$blocks).toFixed(3))")"
  done
done
