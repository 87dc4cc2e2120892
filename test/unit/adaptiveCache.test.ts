/**
 * Adaptive measurements kept between runs: the memory as plain data and back, and the cache files of
 * `verispec generate` (one per model pair, placement and machine; unreadable ones ignored). The CLI's use of
 * them, with a model, is test/adaptiveCacheCli.test.ts.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loadAdaptiveMemory, saveAdaptiveMemory } from "../../src/cli/adaptiveCache.js";
import { AdaptiveMemory, type AdaptiveMemoryRecord } from "../../src/policies/adaptiveMemory.js";
import { AdaptivePolicy } from "../../src/policies/adaptivePolicy.js";
import { CPU, run } from "../helpers/adaptiveRun.js";

// This CPU with the embedded pair, drafts accepted with probability 0.3: drafting does not pay.
test("a memory written as plain data and read back makes the same choices, and goes on counting steps between explorations", () => {
  // 300 steps teach it that drafting does not pay here: explorations are 256 steps apart by then.
  const kept = new AdaptiveMemory();
  run(new AdaptivePolicy({ memory: kept }), CPU, 300, 0.3);
  const record = JSON.parse(JSON.stringify(kept.toRecord())) as AdaptiveMemoryRecord;
  const restored = AdaptiveMemory.fromRecord(record);
  assert.deepEqual(restored.toRecord(), kept.toRecord());
  // The largest pass measured is kept too: a restored memory does not measure the line's far end again.
  assert.equal(restored.pass.largestMeasured, kept.pass.largestMeasured);
  const [a, b] = [run(new AdaptivePolicy({ memory: kept }), CPU, 250, 0.3), run(new AdaptivePolicy({ memory: restored }), CPU, 250, 0.3)];
  assert.deepEqual(b, a);
  // A new run goes on counting where the last one stopped: its first exploration comes when the gap (256
  // steps by now) is reached counting the steps since the last one (here 40: the first run's last exploration
  // drafted at steps 258 and 259), at step 216, with its second block at 217 (on this curve drafting would pay
  // were it free, so an exploration prices drafting too); not at its start (a fresh memory drafts 4 tokens
  // twice to measure) nor 256 steps into it.
  const model = record.sources.model!;
  assert.deepEqual([model.exploreGap, model.sinceExplored], [256, 40]);
  const drafted = b.map((k, i) => (k > 0 ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual(drafted, [216, 217]);
  assert.throws(() => AdaptiveMemory.fromRecord({ ...record, version: 2 } as unknown as AdaptiveMemoryRecord), /version/);
});

test("generate's cache: one file per pair and placement, read back; another placement or a broken file starts fresh", () => {
  const dir = mkdtempSync(join(tmpdir(), "verispec-cache-test-"));
  const key = { target: "target.gguf", draft: "draft.gguf", placement: { threads: 2 } };
  const memory = new AdaptiveMemory();
  run(new AdaptivePolicy({ memory }), CPU, 100, 0.3);
  saveAdaptiveMemory(key, memory, dir);
  assert.deepEqual(loadAdaptiveMemory(key, dir).toRecord(), memory.toRecord());
  // Measurements made with 2 threads say nothing of 1 thread.
  assert.deepEqual(loadAdaptiveMemory({ ...key, placement: { threads: 1 } }, dir).toRecord(), new AdaptiveMemory().toRecord());
  const [file] = readdirSync(dir);
  writeFileSync(join(dir, file), "{ not json");
  assert.deepEqual(loadAdaptiveMemory(key, dir).toRecord(), new AdaptiveMemory().toRecord());
  saveAdaptiveMemory(key, memory, dir);
  assert.deepEqual(readdirSync(dir), [file], "written in place of the broken file, no partial file left");
});
