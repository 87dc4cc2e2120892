# Per-call costs of sampled generation on this CPU (bench/results/cpu/cpu-sampling-costs.md): chain k = 4 with
# the draft model alone, greedy, T = 0.8, and T = 0.8 with top-p 0.95 taking turns on each prompt, warm, each
# generation's first step left out (bench/samplingCallCosts.ts); ROUNDS rounds (5 by default). Run after
# `npm run build`.
cd "$(dirname "$0")/.."
node dist/bench/samplingCallCosts.js --rounds "${ROUNDS:-5}" --prompts 4 --threads 2
