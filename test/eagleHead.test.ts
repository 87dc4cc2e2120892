/**
 * The EAGLE-3 head on llama.cpp through verispec's binding (native/eagle.cc): the target's passes keep the inputs of
 * the head's layers, the head encodes them and drafts from (token, feature) pairs. Its first drafts after a prompt
 * must be llama.cpp's own (`llama-speculative-simple --spec-type draft-eagle3`): the same token drafted at every
 * position, and its top 3 candidates with the same p (assertSameDrafts says how close), which checks the layers read, their order, the pair
 * convention and the positions against llama.cpp's implementation rather than against a reading of it.
 *
 * The expected drafts are test/fixtures/eagle3-first-drafts.json, written by llama.cpp for the shipped head:
 *   npm run build:llama -- --backend cpu --tools
 *   node dist/test/helpers/eagleReference.js models/verispec-target.gguf models/verispec-eagle3.gguf 4 > test/fixtures/eagle3-first-drafts.json
 * Where llama-speculative-simple is built, the test also asks it again.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { draftAfterPrompt } from "../src/backends/llamaCpp/headDrafts.js";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import type { LlamaCppSession } from "../src/backends/llamaCpp/llamaCppSession.js";
import { embedHead } from "../src/gguf/embedHead.js";
import { embedTarget } from "../src/gguf/embedTarget.js";
import { type HeadRowForm, LOGITS_FORM, SUMMARY_FORM } from "../src/model/head.js";
import { argmax, samplingDistribution } from "../src/sampling/distribution.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { packageRoot } from "../src/util/packageRoot.js";
import { type DraftCandidates, HEAD_PROMPTS, haveSpeculativeSimple, llamaCppFirstDrafts } from "./helpers/eagleReference.js";
import { fixturePair } from "./helpers/fixtures.js";

const HEAD = path.join(packageRoot(), "models", "verispec-eagle3.gguf");
const FIXTURE = path.join(packageRoot(), "test", "fixtures", "eagle3-first-drafts.json");
const K = 4;

/** p of each token as llama.cpp's draft sampler states it: softmax over the row's top 10 logits (0 outside them). */
function top10Probabilities(logits: Float32Array): Map<number, number> {
  const ids = [...logits.keys()].sort((a, b) => logits[b] - logits[a]).slice(0, 10);
  const z = ids.reduce((sum, i) => sum + Math.exp(logits[i] - logits[ids[0]]), 0);
  return new Map(ids.map((i) => [i, Math.exp(logits[i] - logits[ids[0]]) / z]));
}

/** The drafted token at each position and p of the tokens there. */
interface HeadPositions {
  drafted: number[];
  p: Map<number, number>[];
}

/**
 * Each position drafts llama.cpp's first candidate, and each of llama.cpp's top 3 has the same p here. Within 0.01:
 * kernel choices alone move these p that much (llama.cpp's own drafts with flash attention on and off differ by up to
 * 0.006 at the fourth position, and by 0.001-0.002 earlier), and two candidates that close can swap ranks, so ranks
 * below the first are compared through p.
 */
function assertSameDrafts(got: HeadPositions, expected: DraftCandidates[], what: string): void {
  assert.equal(got.drafted.length, expected.length, what);
  for (const [pos, candidates] of expected.entries()) {
    assert.equal(got.drafted[pos], candidates[0][0], `${what}: the token drafted at position ${pos}`);
    for (const [c, [token, p]] of candidates.entries()) {
      const mine = got.p[pos].get(token) ?? 0;
      assert.ok(Math.abs(mine - p) <= 0.01, `${what}: position ${pos}, candidate ${c} (${token}): p ${mine} against ${p}`);
    }
  }
}

async function withHead<T>(fn: (h: { target: LlamaCppModel; head: LlamaCppModel }) => Promise<T>): Promise<T> {
  const target = await LlamaCppModel.load(embeddedModelPaths().target, { threads: 1 });
  const head = await LlamaCppModel.load(HEAD, { threads: 1 });
  try {
    return await fn({ target, head });
  } finally {
    head.dispose();
    target.dispose();
  }
}

/** verispec's first k drafts after the prompt: the drafted tokens and p at each position. */
async function verispecFirstDrafts(target: LlamaCppModel, head: LlamaCppModel, prompt: string): Promise<HeadPositions> {
  const tokens = target.vocabulary.tokenize(prompt, true);
  const session = await target.createSession({ contextSize: 1024 });
  const headSession = head.createHeadSession(session);
  try {
    await session.evaluate(tokens.slice(0, -1).map((token, position) => ({ token, position, sequences: [0], logits: false })));
    const drafts = draftAfterPrompt(headSession, tokens, K);
    return { drafted: drafts.map((d) => d.token), p: drafts.map((d) => top10Probabilities(d.logits)) };
  } finally {
    headSession.dispose();
    session.dispose();
  }
}

describe("the EAGLE-3 head through verispec's binding", () => {
  test("its first drafts after each prompt are llama.cpp's own: the same tokens, llama.cpp's top 3 with the same p", async () => {
    const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as { prompt: string; positions: DraftCandidates[] }[];
    assert.deepEqual(
      fixture.map((f) => f.prompt),
      HEAD_PROMPTS,
    );
    await withHead(async ({ target, head }) => {
      for (const { prompt, positions } of fixture) {
        const got = await verispecFirstDrafts(target, head, prompt);
        assertSameDrafts(got, positions, `${JSON.stringify(prompt)} against the fixture`);
        if (haveSpeculativeSimple())
          assertSameDrafts(got, llamaCppFirstDrafts(embeddedModelPaths().target, HEAD, prompt, K), `${JSON.stringify(prompt)} against llama.cpp now`);
      }
    });
  });

  test("a head pass mixing entries asked for and not gives each asked entry its own row", async () => {
    // llama.cpp's eagle3 graph computes every entry's row and its output buffer takes the first ones: decoded
    // naively, the last pair's row came back as the first pair's. The binding decodes such a batch with every entry
    // an output, in one pass, and reads the rows asked for by batch index.
    await withHead(async ({ target, head }) => {
      const tokens = target.vocabulary.tokenize(HEAD_PROMPTS[0], true);
      const rowOfLast = async (everyRow: boolean, form: HeadRowForm = LOGITS_FORM) => {
        const session = await target.createSession({ contextSize: 1024 });
        const h = head.createHeadSession(session);
        await session.evaluate(tokens.map((token, position) => ({ token, position, sequences: [0], logits: false })));
        const g = h.featuresAt([0, 1, 2]);
        const pairs = [0, 1, 2].map((p) => ({
          token: tokens[p + 1],
          position: p,
          sequence: 0,
          feature: g.subarray(p * h.width, (p + 1) * h.width),
          output: everyRow || p === 2,
        }));
        const rows = h.decode(pairs, form);
        h.dispose();
        session.dispose();
        return rows[rows.length - 1];
      };
      const [last, every, summarized] = [await rowOfLast(false), await rowOfLast(true), await rowOfLast(false, SUMMARY_FORM)];
      assert.ok(last.form === "logits" && every.form === "logits");
      assert.deepEqual(last.logits, every.logits);
      // The same row summarized by the backend (what a greedy drafter reads): its most likely token and log-sum-exp.
      assert.ok(summarized.form === "summary");
      assert.equal(summarized.summary.top[0], argmax(last.logits));
      const max = Math.max(...last.logits);
      const logSumExp = max + Math.log(last.logits.reduce((sum, l) => sum + Math.exp(l - max), 0));
      assert.ok(Math.abs(summarized.summary.logSumExp - logSumExp) < 1e-3, `${summarized.summary.logSumExp} against ${logSumExp}`);
      // The same row as the backend's sampling distribution (what a sampled drafter draws from and states as q):
      // sampling/distribution.ts's transform of the copied row, each probability within 1e-4 relative (the backend's
      // exps are a float polynomial), the same tokens kept: whole (this row's top token has 0.994 at T = 0.8; the
      // relative bound holds for the 8,191 small ones too) and cut by top-k and top-p (2 tokens left).
      for (const transform of [
        { temperature: 0.8, topK: 0, topP: 1 },
        { temperature: 1.3, topK: 40, topP: 0.9 },
      ]) {
        const distribution = await rowOfLast(false, { kind: "distribution", transform });
        assert.ok(distribution.form === "distribution");
        const expected = samplingDistribution(last.logits, { mode: "sample", seed: 1, rule: "rejection", ...transform });
        for (let t = 0; t < expected.length; t++) {
          assert.equal(distribution.probs[t] > 0, expected[t] > 0, `token ${t} kept on one side only`);
          assert.ok(Math.abs(distribution.probs[t] - expected[t]) <= 1e-4 * expected[t], `token ${t}: ${distribution.probs[t]} against ${expected[t]}`);
        }
      }
    });
  });

  test("a model that is not a head, and a head on a target of another width, are refused in one line", async () => {
    await withHead(async ({ target, head }) => {
      const session = await target.createSession({ contextSize: 256 });
      assert.throws(() => target.createHeadSession(session), /verispec-target is not an EAGLE-3 head/);
      session.dispose();
      const other = await LlamaCppModel.load(fixturePair().target, { threads: 1 });
      const narrow = await other.createSession({ contextSize: 256 });
      assert.throws(() => head.createHeadSession(narrow), /verispec-eagle3 is 512 wide, its target 64: a head reads the target's own matrices/);
      narrow.dispose();
      other.dispose();
    });
  });

  test("a head written for a cost-equivalent target (embed-target --head) drafts what it drafts for the small target", async () => {
    // The target inside 10 layers x 1024 (ffn 2048), the head inside 1024 wide: the same tokens at every position,
    // and p as close as the wider rows' activation quantization leaves it (llama.cpp: within 0.007 measured).
    const dir = mkdtempSync(path.join(tmpdir(), "verispec-embedded-head-"));
    const [target, head] = [path.join(dir, "target.gguf"), path.join(dir, "head.gguf")];
    const shape = { layers: 10, width: 1024, ffn: 2048 };
    embedTarget(embeddedModelPaths().target, target, shape);
    embedHead(HEAD, head, shape);
    const drafts = async (targetFile: string, headFile: string) => {
      const [t, h] = [await LlamaCppModel.load(targetFile, { threads: 1 }), await LlamaCppModel.load(headFile, { threads: 1 })];
      try {
        return await Promise.all(HEAD_PROMPTS.map((p) => verispecFirstDrafts(t, h, p)));
      } finally {
        h.dispose();
        t.dispose();
      }
    };
    const [small, embedded] = [await drafts(embeddedModelPaths().target, HEAD), await drafts(target, head)];
    for (const [i, positions] of small.entries())
      for (const [pos, token] of positions.drafted.entries()) {
        assert.equal(embedded[i].drafted[pos], token, `prompt ${i}, position ${pos}`);
        const [p, q] = [positions.p[pos].get(token) ?? 0, embedded[i].p[pos].get(token) ?? 0];
        assert.ok(Math.abs(p - q) < 0.02, `prompt ${i}, position ${pos}: p ${q} against ${p}`);
      }
  });

  test("a head session ends with its target session or its head model, before the contexts it reads go", async () => {
    await withHead(async ({ target, head }) => {
      const session = await target.createSession({ contextSize: 256 });
      const h = head.createHeadSession(session);
      session.dispose();
      assert.throws(() => h.featuresAt([0]), /the head session has been disposed/);
      const again = await target.createSession({ contextSize: 256 });
      const h2 = head.createHeadSession(again);
      head.dispose();
      assert.throws(() => h2.decode([]), /the head session has been disposed/);
      again.dispose();
    });
  });

  test("layer capture ends with the head session", async () => {
    await withHead(async ({ target, head }) => {
      const session = await target.createSession({ contextSize: 256 });
      const h = head.createHeadSession(session);
      assert.deepEqual(head.headLayers(), [2, 4, 7]);
      h.dispose();
      await session.evaluate([{ token: 0, position: 0, sequences: [0], logits: true }]);
      assert.throws(() => (session as LlamaCppSession).layerInputs.at(0, [0]), /no layers are captured/);
      session.dispose();
    });
  });
});
