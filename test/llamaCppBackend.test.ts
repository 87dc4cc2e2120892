import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, test } from "node:test";
import { LlamaCppModel, ModelFileError } from "../src/backends/llamaCpp/llamaCppModel.js";
import { physicalCoreCount } from "../src/backends/llamaCpp/threads.js";
import type { BatchToken, ModelSession } from "../src/model/session.js";
import { coupledDraw } from "../src/sampling/coupledDraw.js";
import { argmax } from "../src/sampling/distribution.js";
import { rowAbility, sessionAbility } from "./helpers/capabilities.js";
import { fixtureDir, fixturePair, loadFixturePair } from "./helpers/fixtures.js";

let target: LlamaCppModel;

before(async () => {
  ({ target } = await loadFixturePair());
});
after(() => target.dispose());

/** llama.cpp's own rounding differences between batch shapes are about 3e-6 on the fixtures; this is well above them and far below any real difference. */
const LOGIT_TOLERANCE = 1e-4;

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function chain(tokens: number[], start: number, sequences: number[], logits = true): BatchToken[] {
  return tokens.map((token, i) => ({ token, position: start + i, sequences, logits }));
}

async function lastLogits(session: ModelSession, batch: BatchToken[]): Promise<Float32Array> {
  const rows = await session.evaluate(batch);
  return rows.row(rows.count - 1).slice();
}

test("tokenize and detokenize round-trip on the fixture vocabulary", () => {
  const text = "hello world, the cat sat\n\tdef f(x): return 42 ünïcode";
  const tokens = target.vocabulary.tokenize(text);
  const bytes = Buffer.concat(tokens.map((t) => target.vocabulary.piece(t)));
  assert.equal(bytes.toString("utf8"), text);
});

test("a token shared by two sequences, then different continuations, matches each sequence alone", async () => {
  const prefix = target.vocabulary.tokenize("the cat");
  const [a, b] = [target.vocabulary.tokenize(" sat"), target.vocabulary.tokenize(" ran far")];
  const shared = await target.createSession({ maxSequences: 2 });
  await shared.evaluate(chain(prefix, 0, [0, 1], false));
  const rows = await shared.evaluate([...chain(a, prefix.length, [0]), ...chain(b, prefix.length, [1])]);
  const gotA = rows.row(a.length - 1).slice();
  const gotB = rows.row(rows.count - 1).slice();
  for (const [cont, got] of [
    [a, gotA],
    [b, gotB],
  ] as const) {
    const alone = await target.createSession();
    const want = await lastLogits(alone, chain([...prefix, ...cont], 0, [0]));
    assert.ok(maxDiff(got, want) < LOGIT_TOLERANCE, `max logit difference ${maxDiff(got, want)}`);
    alone.dispose();
  }
  shared.dispose();
});

test("a copied sequence decodes exactly like its source", async () => {
  const s = await target.createSession({ maxSequences: 2 });
  const prompt = target.vocabulary.tokenize("while dogs ran");
  await s.evaluate(chain(prompt, 0, [0], false));
  s.copySequence(0, 1);
  assert.equal(s.sequenceLength(1), prompt.length);
  const next = target.vocabulary.tokenize(" home")[0];
  const fromSource = await lastLogits(s, [{ token: next, position: prompt.length, sequences: [0], logits: true }]);
  const fromCopy = await lastLogits(s, [{ token: next, position: prompt.length, sequences: [1], logits: true }]);
  assert.deepEqual(fromCopy, fromSource);
  s.dispose();
});

test("two sequences in one batch, both asking for logits, get what each gets alone", async () => {
  const [a, b] = [target.vocabulary.tokenize("the mat"), target.vocabulary.tokenize("far away")];
  for (let run = 0; run < 15; run++) {
    const both = await target.createSession({ maxSequences: 2 });
    const rows = await both.evaluate([...chain(a, 0, [0]), ...chain(b, 0, [1])]);
    const [gotA, gotB] = [rows.row(a.length - 1).slice(), rows.row(rows.count - 1).slice()];
    both.dispose();
    const alone = await target.createSession();
    const wantA = await lastLogits(alone, chain(a, 0, [0]));
    alone.clear();
    const wantB = await lastLogits(alone, chain(b, 0, [0]));
    alone.dispose();
    assert.ok(maxDiff(gotA, wantA) < LOGIT_TOLERANCE && maxDiff(gotB, wantB) < LOGIT_TOLERANCE, `run ${run}`);
  }
});

test("greedy with tokens fed one at a time equals greedy after a batched prompt", async () => {
  const prompt = target.vocabulary.tokenize("def return value the cat");
  const greedy = async (oneByOne: boolean) => {
    const s = await target.createSession();
    let logits: Float32Array | undefined;
    if (oneByOne) for (const [i, t] of prompt.entries()) logits = await lastLogits(s, [{ token: t, position: i, sequences: [0], logits: true }]);
    else logits = await lastLogits(s, chain(prompt, 0, [0], true));
    const out: number[] = [];
    for (let pos = prompt.length; out.length < 40; pos++) {
      out.push(argmax(logits!));
      logits = await lastLogits(s, [{ token: out.at(-1)!, position: pos, sequences: [0], logits: true }]);
    }
    s.dispose();
    return out;
  };
  assert.deepEqual(await greedy(true), await greedy(false));
});

test("rolling back removes exactly the positions asked for", async () => {
  const s = await target.createSession();
  const toks = target.vocabulary.tokenize("the cat sat on a mat");
  const want = await lastLogits(s, chain(toks.slice(0, 3), 0, [0]));
  await s.evaluate(chain(toks.slice(3), 3, [0], false));
  s.removeRange(0, 2);
  assert.equal(s.sequenceLength(0), 2);
  const again = await lastLogits(s, [{ token: toks[2], position: 2, sequences: [0], logits: true }]);
  assert.ok(maxDiff(again, want) < LOGIT_TOLERANCE);
  s.dispose();
});

test("bad batches and bad model files get clear errors, and nothing crashes", async () => {
  const s = await target.createSession({ maxSequences: 2 });
  await assert.rejects(s.evaluate([{ token: 99999, position: 0, sequences: [0], logits: true }]), /outside the vocabulary/);
  await assert.rejects(s.evaluate([{ token: 1, position: 5, sequences: [0], logits: true }]), /continues at position 0/);
  await assert.rejects(s.evaluate([{ token: 1, position: 0, sequences: [2], logits: true }]), /sequence 2 is outside/);
  s.dispose();
  await assert.rejects(s.evaluate([{ token: 1, position: 0, sequences: [0], logits: true }]), /disposed/);

  const missing = path.join(fixtureDir, "nope.gguf");
  await assert.rejects(LlamaCppModel.load(missing), (e: Error) => e instanceof ModelFileError && e.message === `model file not found: ${missing}`);
  const text = path.join(fixtureDir, "text.gguf");
  writeFileSync(text, "not a model at all");
  await assert.rejects(LlamaCppModel.load(text), (e: Error) => e instanceof ModelFileError && e.message.includes(text) && !e.message.includes("\n"));
  const { readFileSync } = await import("node:fs");
  const whole = readFileSync(fixturePair().target);
  const cut = path.join(fixtureDir, "cut.gguf");
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  await assert.rejects(LlamaCppModel.load(cut), (e: Error) => e instanceof ModelFileError && /truncated/.test(e.message) && e.message.includes(cut));
});

test("the thread count defaults to the physical core count", async () => {
  const m = await LlamaCppModel.load(fixturePair().target);
  assert.equal(m.threads, physicalCoreCount());
  m.dispose();
  await assert.rejects(LlamaCppModel.load(fixturePair().target, { threads: 0 }), /threads must be a positive integer/);
});

test("passes on the calling thread give the same logits as passes on a worker, and a bad batch is refused there too", async () => {
  const caller = await LlamaCppModel.load(fixturePair().target, { threads: 1, decodeOn: "caller" });
  try {
    const prompt = [5, 9, 100, 7, 42, 3];
    const worker = await target.createSession();
    const direct = await caller.createSession();
    assert.equal(maxDiff(await lastLogits(worker, chain(prompt, 0, [0])), await lastLogits(direct, chain(prompt, 0, [0]))), 0);
    await assert.rejects(() => direct.evaluate(chain([1], 5000, [0])), /position 5000 does not fit the context/);
    worker.dispose();
    direct.dispose();
  } finally {
    caller.dispose();
  }
});

test("the backend's draw from a row (sampleToken) is the token sampleFrom picks from its sampling distribution", async () => {
  const s = await target.createSession();
  const rows = rowAbility(await s.evaluate(chain([5, 9, 100, 7], 0, [0])), "sampling");
  // Uniforms across [0, 1), the edges included: each picks the same token both ways, by inverse CDF in id order.
  for (const settings of [
    { temperature: 0.8, topK: 0, topP: 1 },
    { temperature: 1.3, topK: 5, topP: 0.9 },
  ])
    for (let i = 0; i < 200; i++) {
      const u = i / 200;
      const p = rows.samplingDistribution(3, settings);
      let cumulative = 0;
      let want = 0;
      for (let t = 0; t < p.length; t++) {
        if (p[t] <= 0) continue;
        cumulative += p[t];
        want = t;
        if (u < cumulative) break;
      }
      assert.equal(rows.sampleToken(3, settings, { uniform: u }), want, `u = ${u}, ${JSON.stringify(settings)}`);
    }
  assert.throws(() => rows.sampleToken(3, { temperature: 0.8, topK: 0, topP: 1 }, { uniform: 1 }), /uniform must lie in \[0, 1\)/);
  s.dispose();
});

test("the backend's coupled draw is coupledDraw's on its distribution, row by row and in a run", async () => {
  const s = await target.createSession();
  const rows = rowAbility(await s.evaluate(chain([5, 9, 100, 7], 0, [0])), "sampling");
  const settings = { temperature: 0.8, topK: 0, topP: 1 };
  const seen = new Set<number>();
  // 300 keys on one row: the native port of the rule (hash, bound, logarithm) picks what the TypeScript rule picks.
  for (let seed = 0; seed < 30; seed++)
    for (let position = 0; position < 10; position++) {
      const token = rows.sampleToken(3, settings, { seed, position });
      assert.equal(token, coupledDraw(rows.samplingDistribution(3, settings), seed, position), `seed ${seed}, position ${position}`);
      seen.add(token);
    }
  // The keys give different draws (the row is spread over many tokens at temperature 0.8 on random weights).
  assert.ok(seen.size > 20, `${seen.size} distinct draws`);
  s.dispose();
  // A coupled run: step i's token is the coupled draw at position + i from that step's distribution.
  const run = await target.createSession();
  const batch = chain([5, 9, 100, 7], 0, [0]).map((t, i, all) => ({ ...t, logits: i === all.length - 1 }));
  const out = await sessionAbility(run, "sampledRuns").continueSampled(batch, 6, { transform: settings, draws: { seed: 42, position: 4 } });
  for (const [i, token] of out.tokens.entries()) assert.equal(token, coupledDraw(out.distributions[i], 42, 4 + i), `step ${i}`);
  run.dispose();
});
