/**
 * Slots pin their cache cells (cellPinning.ts) only where that keeps a request's numbers independent of the
 * other slots: on the CPU (and CUDA with batch invariance) a token's logits depend on nothing but its cells'
 * order; with stock CUDA kernels the pass's size changes them anyway, and pinning would only cost attention
 * over every slot's rows. CUDA sessions are stood in for on this CPU machine by the real session reporting
 * their PassNumerics.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type BatchToken, CELL_ORDER, type PassNumerics } from "../src/model/session.js";
import { SharedModel } from "../src/slots/sharedModel.js";
import { useFixturePair } from "./helpers/fixtures.js";
import { PASS_SIZE, PREFILLS_APART, reportingNumerics } from "./helpers/passNumerics.js";

const pair = useFixturePair();

const prompt = (n: number): BatchToken[] => Array.from({ length: n }, (_, i) => ({ token: 5 + i, position: i, sequences: [0], logits: i === n - 1 }));

/** Two slots' prompts in one pass; the shared session's sequences afterwards: each slot's chain, then the rest. */
async function afterOnePass(numerics: PassNumerics | undefined, pinCells?: boolean): Promise<number[]> {
  const { model, opened } = reportingNumerics(pair.target, numerics);
  const shared = new SharedModel(model, { slots: 2, sequencesPerSlot: 1, contextSize: 128, pinCells });
  const slots = [await shared.createSession(), await shared.createSession()];
  await shared.evaluateTogether([
    { session: slots[0], batch: prompt(5) },
    { session: slots[1], batch: prompt(3) },
  ]);
  const session = opened[0];
  const lengths = Array.from({ length: session.maxSequences }, (_, s) => session.sequenceLength(s));
  for (const s of slots) s.dispose();
  shared.dispose();
  return lengths;
}

test("the CPU's sessions say their logits depend on nothing but the cells' order", async () => {
  const session = await pair.target.createSession({ contextSize: 64 });
  assert.deepEqual(session.capabilities.passNumerics, CELL_ORDER);
  session.dispose();
});

test("slots of a session whose logits do not depend on the pass's size pin their cells", async () => {
  for (const numerics of [CELL_ORDER, PREFILLS_APART, undefined]) {
    const lengths = await afterOnePass(numerics);
    // Sequences: chains 0 and 1, placeholders 2 and 3, growers 4 and 5 (PinnedCells.sequencesNeeded(2, 1) = 6).
    // The placeholders hold the first 64 rows (one growth) but the cells the chains took, so they reach row 64.
    assert.deepEqual(lengths, [5, 3, 64, 64, 0, 0]);
  }
});

test("slots of a session whose logits depend on the pass's size anyway leave cells free", async () => {
  const lengths = await afterOnePass(PASS_SIZE);
  // Only the two chains hold cells (the session still has the six sequences a pinned one would use): no
  // placeholders, so a pass attends over the tokens held and no more.
  assert.deepEqual(lengths, [5, 3, 0, 0, 0, 0]);
});

test("pinCells: true pins regardless (a benchmark comparing layouts), false never", async () => {
  assert.deepEqual(await afterOnePass(PASS_SIZE, true), [5, 3, 64, 64, 0, 0]);
  assert.deepEqual(await afterOnePass(CELL_ORDER, false), [5, 3, 0, 0, 0, 0]);
});
