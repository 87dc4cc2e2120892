/**
 * The pass merger (slots/passMerger.ts): when it merges is a count (every party of a round waits for a pass, or has
 * ended), never a moment of the event loop; each merge is one call per sink and kind.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { GreedyRun, LogitRows, RunSummaryKind } from "../../src/model/rows.js";
import type { BatchToken, ModelSession } from "../../src/model/session.js";
import { type MergeSink, PassMerger, type SlotPass } from "../../src/slots/passMerger.js";
import type { RunPart } from "../../src/slots/sharedRuns.js";

/** A sink that records each call's parts (by their first token) and answers at once. */
class RecordingSink implements MergeSink {
  readonly calls: string[][] = [];

  evaluateParts(parts: readonly SlotPass[]): Promise<LogitRows[]> {
    this.calls.push(parts.map((p) => `e${p.batch[0].token}`));
    return Promise.resolve(parts.map(() => ({ count: 0, vocabSize: 1, row: () => new Float32Array(1), capabilities: {} }) as unknown as LogitRows));
  }

  runParts(parts: readonly RunPart[], summary: RunSummaryKind | undefined): Promise<GreedyRun[]> {
    this.calls.push(parts.map((p) => `r${p.batch[0].token}:${summary}`));
    return Promise.resolve(parts.map(() => ({ tokens: [], summaries: [] })));
  }
}

const session = {} as ModelSession;
const batch = (token: number): BatchToken[] => [{ token, position: 0, sequences: [0], logits: true }];
const pass = (token: number): SlotPass => ({ session, batch: batch(token) });
const run = (token: number): RunPart => ({ batch: batch(token), steps: 1, release: () => {} });

/** A promise and what opens it. */
function gate(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

test("outside a round a pass is merged at once, a pass of its own", async () => {
  const merger = new PassMerger();
  const sink = new RecordingSink();
  await Promise.all([merger.evaluate(sink, pass(1)), merger.evaluate(sink, pass(2))]);
  assert.deepEqual(sink.calls, [["e1"], ["e2"]]);
});

test("a round merges when every party waits, however long one of them takes to ask", async () => {
  const merger = new PassMerger();
  const sink = new RecordingSink();
  const { promise: slow, resolve: late } = gate();
  const round = merger.round([
    async () => {
      await merger.evaluate(sink, pass(1));
      await merger.evaluate(sink, pass(3));
    },
    async () => {
      // Several turns of the event loop before it asks: the others wait for it.
      await slow;
      await merger.evaluate(sink, pass(2));
    },
  ]);
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(sink.calls, [], "nothing merged while a party has not asked");
  late();
  await round;
  // The first merge holds both parties' passes; the second, the one party still drafting.
  assert.deepEqual(sink.calls, [["e1", "e2"], ["e3"]]);
});

test("a merge makes one call per sink for its evaluates and one per summary kind for its runs", async () => {
  const merger = new PassMerger();
  const [a, b] = [new RecordingSink(), new RecordingSink()];
  await merger.round<unknown>([
    () => merger.evaluate(a, pass(1)),
    () => merger.run(a, run(2), "top"),
    () => merger.run(a, run(3), "argmax"),
    () => merger.run(a, run(4), "top"),
    () => merger.evaluate(b, pass(5)),
    async () => {},
  ]);
  // Runs first, the evaluate last: its rows are views of the session's last pass.
  assert.deepEqual(a.calls, [["r2:top", "r4:top"], ["r3:argmax"], ["e1"]]);
  assert.deepEqual(b.calls, [["e5"]]);
});

test("mergeNow merges the parts handed over by themselves, and an error reaches every pass of its call", async () => {
  const merger = new PassMerger();
  const sink = new RecordingSink();
  const { promise: busy, resolve: release } = gate();
  const round = merger.round<unknown>([() => merger.evaluate(sink, pass(9)), () => busy]);
  const rows = await merger.mergeNow(sink, [pass(1), pass(2)]);
  assert.equal(rows.length, 2);
  assert.deepEqual(sink.calls, [["e1", "e2"]], "the round's pass waits for the round's merge");
  release();
  await round;
  assert.deepEqual(sink.calls, [["e1", "e2"], ["e9"]]);
  const failing: MergeSink = { evaluateParts: () => Promise.reject(new Error("no pass")), runParts: () => Promise.reject(new Error("no run")) };
  const passes: Promise<LogitRows>[] = [];
  await merger.round(
    [1, 2].map((token) => async () => {
      const p = merger.evaluate(failing, pass(token));
      passes.push(p);
      await p.catch(() => undefined);
    }),
  );
  for (const p of passes) await assert.rejects(p, /no pass/);
  await assert.rejects(merger.mergeNow(failing, [pass(3)]), /no pass/);
});
