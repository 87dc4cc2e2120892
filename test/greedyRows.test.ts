/**
 * Greedy runs of several sequences in one llama.cpp call (continueGreedyRows), and a SharedModel's slots whose
 * runs of one round of the pass merger merge into one: each run is exactly its sequence's greedy continuation alone, and the
 * cache ends holding what a run of that slot's own length leaves.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import type { GreedyRun } from "../src/model/rows.js";
import type { BatchToken, ModelSession } from "../src/model/session.js";
import { SharedModel } from "../src/slots/sharedModel.js";
import { sessionAbility } from "./helpers/capabilities.js";
import { loadFixturePair } from "./helpers/fixtures.js";

let draft: LlamaCppModel;
let target: LlamaCppModel;
before(async () => {
  ({ draft, target } = await loadFixturePair());
});
after(() => {
  draft.dispose();
  target.dispose();
});

const PROMPTS = ["def add(a, b):", "the cat sat on", "for i in range("];

function prompt(text: string, sequence: number): BatchToken[] {
  const tokens = draft.vocabulary.tokenize(text);
  return tokens.map((token, i) => ({ token, position: i, sequences: [sequence], logits: i === tokens.length - 1 }));
}

/** Each prompt's greedy run of `steps`, alone in a fresh session. */
async function alone(text: string, steps: number): Promise<GreedyRun> {
  const s = await draft.createSession({ rowSummary: "top" });
  const run = await sessionAbility(s, "greedyRuns").continueGreedy(prompt(text, 0), steps, "top");
  s.dispose();
  return run;
}

function sameRun(got: GreedyRun, want: GreedyRun, what: string): void {
  assert.deepEqual(got.tokens, want.tokens, what);
  // The top token's logit and the row's log-sum-exp, as each step summarised them: llama.cpp's rounding between
  // batch shapes is ~3e-6 on the fixtures.
  for (const [i, s] of got.summaries.entries()) {
    const w = want.summaries[i];
    assert.ok(Math.abs(s.topLogits[0] - w.topLogits[0]) < 1e-4 && Math.abs(s.logSumExp - w.logSumExp) < 1e-4, `${what}, step ${i}`);
  }
}

test("a run of several rows: each row's tokens are its sequence's greedy continuation alone", async () => {
  const s = await draft.createSession({ maxSequences: 3, rowSummary: "top" });
  const runs = await sessionAbility(s, "rowRuns").continueGreedyRows(
    PROMPTS.flatMap((p, i) => prompt(p, i)),
    6,
    "top",
  );
  assert.equal(runs.length, 3);
  for (const [i, p] of PROMPTS.entries()) {
    sameRun(runs[i], await alone(p, 6), p);
    // The cache holds the prompt and every drafted token but the last (which was not decoded).
    assert.equal(s.sequenceLength(i), draft.vocabulary.tokenize(p).length + 5);
  }
  s.dispose();
});

test("a run's rows must each end their own sequences", async () => {
  const s = await draft.createSession({ maxSequences: 2, rowSummary: "top" });
  const [a, b] = [prompt(PROMPTS[0], 0), prompt(PROMPTS[1], 1)];
  // A row that another token of its sequence follows, and two rows of one sequence.
  const early = [...a.map((t, i) => ({ ...t, logits: i === 0 })), ...b];
  await assert.rejects(sessionAbility(s, "rowRuns").continueGreedyRows(early, 3), /last token of its sequences/);
  await assert.rejects(
    sessionAbility(s, "rowRuns").continueGreedyRows([...a, { ...b[0], position: a.length, sequences: [0] }], 3),
    /last token of its sequences/,
  );
  s.dispose();
});

test("slots' runs of one round merge into one call; each gets its own length, and the extra cells are given back", async () => {
  const shared = new SharedModel(draft, { slots: 3, sequencesPerSlot: 1, pinCells: false, rowSummary: "top", batchInvariant: false });
  const slots: ModelSession[] = await Promise.all(PROMPTS.map(() => shared.createSession()));
  const steps = [2, 6, 4];
  const passesBefore = shared.passes;
  // Each slot's run a party of one round of the merger, as a scheduler's step plans its requests' drafts.
  const runs = await shared.merger.round(
    slots.map((slot, i) => () => sessionAbility(slot, "greedyRuns").continueGreedy(prompt(PROMPTS[i], 0), steps[i], "top")),
  );
  // One merged run of 6 steps: a call with the prompts, then one pass per step after the first.
  assert.equal(shared.passes - passesBefore, 1);
  for (const [i, p] of PROMPTS.entries()) {
    sameRun(runs[i], await alone(p, steps[i]), p);
    assert.equal(slots[i].sequenceLength(0), draft.vocabulary.tokenize(p).length + steps[i] - 1, `${p}: cells past its run given back`);
  }
  // A slot of a pinned shared session (the target's) offers no runs: its cells are laid out by the pinning.
  const pinned = new SharedModel(target, { slots: 2, sequencesPerSlot: 1 });
  assert.equal((await pinned.createSession()).capabilities.greedyRuns, undefined);
  for (const slot of slots) slot.dispose();
  shared.dispose();
  pinned.dispose();
});

test("a slot released while another slot's merged pass runs waits for the pass, and its place comes back clean", async () => {
  // A request that ends mid-step (its planning failed, its client left) releases its drafter slot while the other
  // slots' merged run is on llama.cpp's worker thread: clearing its cells then would hit a busy context.
  const shared = new SharedModel(draft, { slots: 2, sequencesPerSlot: 1, pinCells: false, rowSummary: "top", batchInvariant: false });
  const [a, b] = [await shared.createSession(), await shared.createSession()];
  await b.evaluate(prompt(PROMPTS[1], 0));
  const running = shared.merger.round([() => sessionAbility(a, "greedyRuns").continueGreedy(prompt(PROMPTS[0], 0), 48, "top")]);
  await new Promise((resolve) => setImmediate(resolve));
  b.dispose();
  sameRun((await running)[0], await alone(PROMPTS[0], 48), "the run that was in flight");
  const again = await shared.createSession();
  assert.equal(again.sequenceLength(0), 0, "the released slot's cells were cleared");
  const [run] = await shared.merger.round([() => sessionAbility(again, "greedyRuns").continueGreedy(prompt(PROMPTS[2], 0), 6, "top")]);
  sameRun(run, await alone(PROMPTS[2], 6), "a new request in the released place");
  a.dispose();
  again.dispose();
  shared.dispose();
});
