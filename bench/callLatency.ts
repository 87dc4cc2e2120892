/**
 * The cost of one single-token evaluate call through verispec's binding, per model, device and CPU thread count:
 * a prompt of 32 tokens, then `--calls` sequential one-token decodes (each the argmax of the last), timed in
 * JavaScript around each evaluate. Prints one JSON line per setting, then the thread count that was fastest for
 * the first model. Usage: node dist/bench/callLatency.js --model a.gguf[,b.gguf] [--device gpu] [--threads 1,8] [--calls 200]
 */
import { parseArgs } from "node:util";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { argmax } from "../src/sampling/distribution.js";

const { values: a } = parseArgs({
  options: {
    model: { type: "string" },
    device: { type: "string", default: "gpu" },
    threads: { type: "string", default: "1,8" },
    calls: { type: "string", default: "200" },
  },
});
if (!a.model) throw new Error("--model is required");
const device = a.device === "cpu" ? "cpu" : "gpu";

async function measure(file: string, threads: number): Promise<number> {
  const model = await LlamaCppModel.load(file, { threads, device });
  const session = await model.createSession({ contextSize: 1024 });
  const prompt = model.vocabulary.tokenize("def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n").slice(0, 32);
  let rows = await session.evaluate(prompt.map((token, position) => ({ token, position, sequences: [0], logits: position === prompt.length - 1 })));
  let token = argmax(rows.row(0));
  const times: number[] = [];
  for (let i = 0; i < Number(a.calls); i++) {
    const start = performance.now();
    rows = await session.evaluate([{ token, position: prompt.length + i, sequences: [0], logits: true }]);
    token = argmax(rows.row(0));
    times.push(performance.now() - start);
  }
  session.dispose();
  model.dispose();
  times.sort((x, y) => x - y);
  const mean = times.reduce((s, t) => s + t, 0) / times.length;
  console.log(
    JSON.stringify({
      model: model.name,
      device,
      threads,
      calls: times.length,
      meanMs: mean,
      medianMs: times[times.length >> 1],
      p90Ms: times[Math.floor(times.length * 0.9)],
    }),
  );
  return mean;
}

const files = a.model.split(",");
const threadCounts = a.threads.split(",").map(Number);
let best = { threads: threadCounts[0], ms: Number.POSITIVE_INFINITY };
for (const [i, file] of files.entries()) {
  for (const threads of threadCounts) {
    const ms = await measure(file, threads);
    if (i === 0 && ms < best.ms) best = { threads, ms };
  }
}
console.log(`best-threads ${best.threads}`);
