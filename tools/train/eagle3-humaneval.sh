#!/usr/bin/env bash
# Acceptance of an EAGLE-3 head against the 3.3M draft model, both drafting in llama.cpp's own
# llama-speculative-simple (the head as --spec-type draft-eagle3, the model as draft-simple), k = 8, on the
# first 10 HumanEval prompts (trailing whitespace trimmed), 128 tokens, one thread, at T = 0, T = 0 with
# --repeat-penalty 1.1 and T = 0.8 (seed 1). llama-speculative-simple accepts a drafted token when the
# target's sampler draws it, so these are acceptance figures, not verispec's exact sampling.
# usage: bash tools/train/eagle3-humaneval.sh HEAD.gguf > summary.md   (needs npm run build:llama -- --backend cpu --tools)
set -euo pipefail
cd "$(dirname "$0")/../.."
B=native/.llama-build/cpu/bin
HEAD=$1
DRAFT=models/verispec-draft.gguf
TARGET=models/verispec-target.gguf
prompts=$(mktemp -d)
node -e '
const fs = require("fs");
const lines = fs.readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean).slice(0, 10);
lines.forEach((l, i) => fs.writeFileSync(`${process.argv[2]}/${i}.txt`, JSON.parse(l).prompt.trimEnd()));
' ../shared/bench/humaneval.jsonl "$prompts"
run() { # drafter-args sampling-args -> "drafted accepted predicted" summed over the prompts
  local d=0 a=0 p=0
  for f in "$prompts"/*.txt; do
    out=$(nice -n 10 $B/llama-speculative-simple -m $TARGET $1 -f "$f" -n 128 $2 --spec-draft-n-max 8 -c 1024 -t 1 --seed 1 2>&1) ||
      { echo "llama-speculative-simple $1 $2 on $f failed: $(tail -3 <<<"$out")" >&2; exit 1; }
    d=$((d + $(grep -oP 'n_drafted = \K\d+' <<<"$out"))); a=$((a + $(grep -oP 'n_accept  = \K\d+' <<<"$out")))
    p=$((p + $(grep -oP 'n_predict = \K\d+' <<<"$out")))
  done
  echo "$d $a $p"
}
# Every target pass emits its accepted drafts and one token of its own: passes = predicted - accepted.
echo "| drafter | sampling | drafted | accepted | accept rate | tokens per target pass |"
echo "| --- | --- | --- | --- | --- | --- |"
for s in "--temp 0" "--temp 0 --repeat-penalty 1.1" "--temp 0.8"; do
  for dr in "eagle3:-md $HEAD --spec-type draft-eagle3" "draft model:-md $DRAFT --spec-type draft-simple"; do
    read -r d a p <<<"$(run "${dr#*:}" "$s")"
    awk -v n="${dr%%:*}" -v s="$s" -v d=$d -v a=$a -v p=$p 'BEGIN { printf "| %s | %s | %d | %d | %.3f | %.2f |\n", n, s, d, a, a / d, p / (p - a) }'
  done
done
rm -rf "$prompts"
