/**
 * What a served step's target pass costs, and what a joining prompt adds to it, through the server's own shared
 * cache (SharedModel: slots, pinned cells). `slots - 1` slots hold `depth` tokens of context each and verify a
 * chain of `chain` tokens per pass (every token with logits, rolled back after the pass); `join` adds the last
 * slot's prompt of `prompt` tokens to that pass (its cells given back after it), `prompt` runs that prompt alone,
 * and `flat` puts the same number of tokens as `join` into one sequence of a plain session (llama-bench's shape).
 * Cells pinned (the server's default) and not. One JSON line per case: mean and median wall time of the pass and of
 * llama_decode inside it.
 * Usage: node dist/bench/servedPass.js --model target.gguf [--slots 8] [--chain 6] [--depth 200] [--prompt 107]
 *        [--passes 40] [--device gpu] [--threads 8] [--context 1024]
 */
import { parseArgs } from "node:util";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import type { BatchToken, ModelSession } from "../src/model/session.js";
import { SharedModel, type SlotPass } from "../src/slots/sharedModel.js";
import { meanAndMedian } from "./passTimes.js";

const { values: a } = parseArgs({
  options: {
    model: { type: "string" },
    slots: { type: "string", default: "8" },
    chain: { type: "string", default: "6" },
    depth: { type: "string", default: "200" },
    prompt: { type: "string", default: "107" },
    passes: { type: "string", default: "40" },
    device: { type: "string", default: "gpu" },
    threads: { type: "string", default: "8" },
    context: { type: "string", default: "1024" },
  },
});
if (!a.model) throw new Error("--model is required");
const [SLOTS, CHAIN, DEPTH, PROMPT, PASSES, CONTEXT] = [a.slots, a.chain, a.depth, a.prompt, a.passes, a.context].map(Number);

const tokensAt = (from: number, n: number, logits: (i: number) => boolean, seq = 0): BatchToken[] =>
  Array.from({ length: n }, (_, i) => ({ token: 1 + (((from + i) * 7 + seq) % 97), position: from + i, sequences: [seq], logits: logits(i) }));

/** Runs `pass` PASSES times after 5 warm-up passes; wall and llama_decode times. */
async function timed(model: LlamaCppModel, pass: () => Promise<void>) {
  const wall: number[] = [];
  const decode: number[] = [];
  for (let i = 0; i < PASSES + 5; i++) {
    const before = model.callStats().decodeMs;
    const start = performance.now();
    await pass();
    if (i < 5) continue;
    wall.push(performance.now() - start);
    decode.push(model.callStats().decodeMs - before);
  }
  const w = meanAndMedian(wall);
  const d = meanAndMedian(decode);
  return { wallMeanMs: w.meanMs, wallP50Ms: w.p50Ms, decodeMeanMs: d.meanMs, decodeP50Ms: d.p50Ms };
}

async function servedCases(model: LlamaCppModel, pinCells: boolean): Promise<void> {
  const shared = new SharedModel(model, { slots: SLOTS, sequencesPerSlot: 1, contextSize: CONTEXT, pinCells });
  const slots: ModelSession[] = [];
  for (let s = 0; s < SLOTS; s++) slots.push(await shared.createSession());
  const busy = slots.slice(0, SLOTS - 1);
  const joining = slots[SLOTS - 1];
  await shared.evaluateTogether(busy.map((session) => ({ session, batch: tokensAt(0, DEPTH, () => false) })));
  const chains = (): SlotPass[] => busy.map((session) => ({ session, batch: tokensAt(DEPTH, CHAIN, () => true) }));
  const prompt = (): SlotPass => ({ session: joining, batch: tokensAt(0, PROMPT, (i) => i === PROMPT - 1) });
  const rollBack = () => {
    for (const s of busy) s.removeRange(0, DEPTH);
    joining.removeRange(0, 0);
  };
  const cases: Record<string, () => SlotPass[]> = { steady: chains, join: () => [...chains(), prompt()], prompt: () => [prompt()] };
  for (const [name, parts] of Object.entries(cases)) {
    const t = await timed(model, async () => {
      await shared.evaluateTogether(parts());
      rollBack();
    });
    const tokens = parts().reduce((n, p) => n + p.batch.length, 0);
    console.log(JSON.stringify({ case: name, pinned: pinCells, slots: SLOTS, chain: CHAIN, depth: DEPTH, prompt: PROMPT, tokens, ...t }));
  }
  for (const s of slots) s.dispose();
  shared.dispose();
}

/** The join's token count as one sequence of a plain session (after `depth` tokens of context). */
async function flatCase(model: LlamaCppModel): Promise<void> {
  const n = (SLOTS - 1) * CHAIN + PROMPT;
  const session = await model.createSession({ contextSize: DEPTH + n + 64 });
  await session.evaluate(tokensAt(0, DEPTH, () => false));
  const t = await timed(model, async () => {
    await session.evaluate(tokensAt(DEPTH, n, () => true));
    session.removeRange(0, DEPTH);
  });
  console.log(JSON.stringify({ case: "flat", depth: DEPTH, tokens: n, ...t }));
  session.dispose();
}

const model = await LlamaCppModel.load(a.model, { threads: Number(a.threads), device: a.device === "cpu" ? "cpu" : "gpu" });
for (const pinCells of [true, false]) await servedCases(model, pinCells);
await flatCase(model);
model.dispose();
