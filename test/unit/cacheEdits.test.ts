/** The cache mirror that worker sessions answer sequence lengths from, and the call replay built on it. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { SequenceMirror } from "../../src/backends/cacheEdits.js";
import type { BatchToken } from "../../src/model/session.js";
import { type RecordedCall, replayEvaluatedSequences } from "../helpers/recordingModel.js";

const tokens = (ids: number[], start: number, sequences: number[]): BatchToken[] =>
  ids.map((token, i) => ({ token, position: start + i, sequences, logits: false }));

test("the mirror follows llama.cpp's lengths through removals, copies, keep-only and clear", () => {
  const m = new SequenceMirror();
  m.addBatch(tokens([10, 11, 12, 13], 0, [0]));
  m.apply({ kind: "removeRange", sequence: 0, from: 1, to: 2 });
  // A hole in the middle: the last position is still 3, so the length stays 4 (seq_pos_max + 1).
  assert.equal(m.length(0), 4);
  assert.deepEqual(m.tokens(0), [10, undefined, 12, 13]);
  m.apply({ kind: "removeRange", sequence: 0, from: 2 });
  // Removing the tail also drops the hole before it: position 0 is the last one left.
  assert.equal(m.length(0), 1);
  m.apply({ kind: "copySequence", source: 0, destination: 3 });
  m.addBatch(tokens([20], 1, [3]));
  assert.deepEqual([m.length(0), m.length(3)], [1, 2]);
  m.apply({ kind: "keepOnlySequence", sequence: 3 });
  assert.deepEqual([m.length(0), m.length(3)], [0, 2]);
  m.apply({ kind: "clear" });
  assert.equal(m.length(3), 0);
});

test("replay keeps the sequence that keepOnlySequence keeps, and clear empties every sequence", () => {
  const calls: RecordedCall[] = [
    { session: 0, kind: "evaluate", batch: tokens([1, 2], 0, [0, 1]) },
    { session: 0, kind: "keepOnlySequence", sequence: 0 },
    { session: 0, kind: "evaluate", batch: tokens([3], 2, [0]) },
    { session: 0, kind: "clear" },
    { session: 0, kind: "evaluate", batch: tokens([4], 0, [0]) },
  ];
  // [1], [1,2] from the shared prefix; [1,2,3] because sequence 0 survived keep-only; [4] because clear emptied it.
  assert.deepEqual(replayEvaluatedSequences(calls), [[1], [1, 2], [1, 2, 3], [4]]);
});
