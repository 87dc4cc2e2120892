# Per-call costs of sampled generation on this CPU: chain k = 4 with the draft model alone, greedy, T = 0.8, T = 0.8 with top-p 0.95, three rounds in this order (bench/cpu-sampling-costs.md).
cd "$(dirname "$0")/.."
for r in 1 2 3; do
for s in "" "--temperature 0.8 --seed 1" "--temperature 0.8 --top-p 0.95 --seed 1"; do
  node dist/src/cli/main.js generate --policy chain --k 4 --max-tokens 128 --no-lookup-first $s --json | node -e 'let t="";process.stdin.on("data",d=>t+=d).on("end",()=>{const m=JSON.parse(t).metrics;console.log(JSON.stringify({run:+process.argv[1],setting:process.argv[2]||"greedy",tps:+m.tokensPerSecond.toFixed(1),drafterMsPerCall:+(1000*m.draftSeconds/m.drafterCalls).toFixed(3),passMs:+(1000*m.verifySeconds/m.targetCalls).toFixed(3)}))})' $r "$s"
done; done
