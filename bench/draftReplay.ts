/**
 * Drafters replayed on recorded text: the target's own generations (target alone, at a temperature and a
 * repetition penalty) are recorded once, then each drafter configuration is stepped through them as the
 * speculative loop would step it. A one-hot draft's tokens are accepted while they equal the recorded ones
 * (greedy: exactly what verification would do; sampled: each with probability p(x), the chance the recorded
 * sample is x), so the replay gives tokens per pass without a model call, and with the target's measured pass
 * costs (a pass of n tokens at the recorded depth) an estimate of tokens per second against the target alone.
 * Usage: node dist/bench/draftReplay.js [--prompts FILE] [--limit N] [--max-tokens N] [--temperature T]
 *        [--repetition-penalty R] [--threads N] [--record FILE] [--replay FILE]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { readPromptFile } from "../src/bench/promptFile.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import type { Drafter } from "../src/drafters/drafter.js";
import { PromptLookupDrafter } from "../src/drafters/promptLookupDrafter.js";
import { SuffixDrafter, suffixConfidence } from "../src/drafters/suffixDrafter.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import type { TokenId } from "../src/model/vocabulary.js";
import { Constraints } from "../src/sampling/constraints.js";
import { samplingFrom } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";

const { values: a } = parseArgs({
  options: {
    prompts: { type: "string", default: "../shared/bench/humaneval.jsonl" },
    limit: { type: "string", default: "10" },
    "max-tokens": { type: "string", default: "128" },
    temperature: { type: "string", default: "0" },
    "repetition-penalty": { type: "string", default: "1" },
    threads: { type: "string", default: "2" },
    record: { type: "string" },
    replay: { type: "string" },
  },
});

interface Recording {
  settings: Record<string, string | undefined>;
  /** Target pass cost in ms by pass size. */
  passMs: Record<number, number>;
  samples: { prompt: TokenId[]; output: TokenId[] }[];
}

const PASS_SIZES = [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32, 48, 65];

async function passCosts(target: LlamaCppModel, depth: number): Promise<Record<number, number>> {
  const session = await target.createSession({ contextSize: 1024 });
  const prefix = Array.from({ length: depth }, (_, i) => (i * 37) % target.vocabulary.size);
  await session.evaluate(prefix.map((token, position) => ({ token, position, sequences: [0], logits: position === depth - 1 })));
  const out: Record<number, number> = {};
  for (const n of PASS_SIZES) {
    const times: number[] = [];
    for (let r = 0; r < 15; r++) {
      const batch = Array.from({ length: n }, (_, i) => ({ token: (i * 11) % 200, position: depth + i, sequences: [0], logits: true }));
      const t0 = performance.now();
      await session.evaluate(batch);
      times.push(performance.now() - t0);
      session.removeRange(0, depth);
    }
    out[n] = times.sort((x, y) => x - y)[Math.floor(times.length / 2)];
  }
  session.dispose();
  return out;
}

async function record(): Promise<Recording> {
  const target = await LlamaCppModel.load(embeddedModelPaths().target, { threads: Number(a.threads), decodeOn: "caller" });
  const prompts = readPromptFile(a.prompts!)
    .slice(0, Number(a.limit))
    .map((p) => p.trimEnd());
  const constraints = new Constraints({ repetitionPenalty: Number(a["repetition-penalty"]) });
  const samples = [];
  for (const [i, prompt] of prompts.entries()) {
    const sampling = samplingFrom({ temperature: Number(a.temperature), seed: i });
    const run = await collectGeneration(generateTargetOnly(target, prompt, { maxTokens: Number(a["max-tokens"]), sampling, constraints }));
    samples.push({ prompt: target.vocabulary.tokenize(prompt, true), output: run.tokens });
  }
  const passMs = await passCosts(target, 200);
  target.dispose();
  return { settings: a, passMs, samples };
}

/** Cost of a pass of n tokens, interpolated between the measured sizes. */
function cost(passMs: Record<number, number>, n: number): number {
  const sizes = Object.keys(passMs).map(Number);
  const hi = sizes.find((s) => s >= n) ?? sizes[sizes.length - 1];
  const lo = [...sizes].reverse().find((s) => s <= n) ?? sizes[0];
  if (hi === lo) return passMs[hi] * (n / hi);
  return passMs[lo] + ((passMs[hi] - passMs[lo]) * (n - lo)) / (hi - lo);
}

/** How a configuration decides a block's length: the most tokens, and when to stop from a token's confidence. */
interface Rule {
  name: string;
  make: (vocab: number) => Drafter;
  maxK: number;
  /** Stop before a token whose cumulative confidence falls below this (0: never). */
  minCumulative: number;
}

async function replay(rec: Recording, rule: Rule): Promise<{ passes: number; tokens: number; ms: number; drafted: number }> {
  let passes = 0;
  let tokens = 0;
  let ms = 0;
  let drafted = 0;
  for (const s of rec.samples) {
    const d = rule.make(8192);
    await d.start(s.prompt);
    let at = 0;
    while (at < s.output.length) {
      const limit = Math.min(rule.maxK, s.output.length - at - 1);
      const block: TokenId[] = [];
      let c = 1;
      while (block.length < limit) {
        const next = await d.next();
        if (!next) break;
        c *= next.q.prob(next.token);
        if (rule.minCumulative > 0 && c < rule.minCumulative) break;
        block.push(next.token);
      }
      let accepted = 0;
      while (accepted < block.length && block[accepted] === s.output[at + accepted]) accepted++;
      d.commit(accepted, [s.output[at + accepted]]);
      at += accepted + 1;
      passes++;
      drafted += block.length;
      ms += cost(rec.passMs, block.length + 1);
    }
    tokens += s.output.length;
  }
  return { passes, tokens, ms, drafted };
}

const rec: Recording = a.replay ? JSON.parse(readFileSync(a.replay, "utf8")) : await record();
if (a.record) writeFileSync(a.record, JSON.stringify(rec));
const passLine = Object.entries(rec.passMs)
  .map(([n, t]) => `${n}:${t.toFixed(2)}`)
  .join(" ");
console.log(`pass ms by size: ${passLine}`);
const baseline = rec.samples.reduce((n, s) => n + s.output.length, 0) * cost(rec.passMs, 1);
const rules: Rule[] = [
  { name: "lookup k=8", make: (v) => new PromptLookupDrafter(v), maxK: 8, minCumulative: 0 },
  ...[2, 3, 4].flatMap((m) =>
    [8, 16, 64].flatMap((k) =>
      [0, 0.2, 0.4].map((c) => ({
        name: `suffix min=${m} k=${k} c>=${c}`,
        make: (v: number) => new SuffixDrafter(v, { minMatch: m }),
        maxK: k,
        minCumulative: c,
      })),
    ),
  ),
];
void suffixConfidence;
for (const rule of rules) {
  const r = await replay(rec, rule);
  console.log(
    `${rule.name.padEnd(28)} tokens/pass ${(r.tokens / r.passes).toFixed(2)}  drafted/pass ${(r.drafted / r.passes).toFixed(2)}  est. speedup ${(baseline / r.ms).toFixed(3)}`,
  );
}
