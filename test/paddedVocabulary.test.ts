/**
 * The shipped pair with a vocabulary padded by 128 tokens, as llama.cpp accepts it: a drafter with 128 padding
 * tokens drafts for the shipped target, and a target with 128 more tokens takes the shipped drafter, each with
 * greedy (and coupled-sampling) text identical to the target's own; padded with 129, the CLI refuses the drafter
 * in one line. The padding tokens' rows are scaled copies of common tokens' rows, so they are often the
 * argmax of a whole row: a drafter that read whole rows would draft them, and the target could not evaluate them.
 */
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { ModelDrafter } from "../src/drafters/modelDrafter.js";
import { padVocabulary } from "../src/gguf/padVocabulary.js";
import { checkCompatibleVocabularies } from "../src/model/vocabularyCompatibility.js";
import { GREEDY, type SamplingSettings } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { runCli } from "./helpers/cli.js";
import { speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { POLICIES } from "./helpers/policies.js";

const PROMPTS = ["import numpy as np\n\n\ndef normalize(x):", "def fibonacci(n):\n    ", "class Stack:\n    def __init__(self):"];
const MAX_TOKENS = 24;
const dir = mkdtempSync(path.join(tmpdir(), "verispec-padded-"));
const files = { draft128: path.join(dir, "draft-128.gguf"), draft129: path.join(dir, "draft-129.gguf"), target128: path.join(dir, "target-128.gguf") };
const models = {} as { target: LlamaCppModel; draft: LlamaCppModel; draft128: LlamaCppModel; target128: LlamaCppModel };

before(async () => {
  const p = embeddedModelPaths();
  // Tokens 256-383 are common merges ("in", "Ġt", ...): three times their rows win most rows' argmax.
  padVocabulary(p.draft, files.draft128, { count: 128, rowsLike: { first: 256, scale: 3 } });
  padVocabulary(p.draft, files.draft129, { count: 129 });
  // Rarer tokens' rows, scaled: the target's argmax now and then (measured: from token 3 of the first prompt's
  // output, at token 17 of the third's), so the drafter drafts and then meets tokens it lacks.
  padVocabulary(p.target, files.target128, { count: 128, rowsLike: { first: 4000, scale: 1.5 } });
  const load = (file: string) => LlamaCppModel.load(file, { threads: 1 });
  Object.assign(models, {
    target: await load(p.target),
    draft: await load(p.draft),
    draft128: await load(files.draft128),
    target128: await load(files.target128),
  });
});
after(() => {
  for (const m of Object.values(models)) m.dispose();
});

/** Target-only and speculative tokens under each policy (k = 4; all by default) for each prompt must be equal. */
async function assertIdentical(target: LlamaCppModel, draft: LlamaCppModel, sampling: SamplingSettings, policies = Object.keys(POLICIES)): Promise<number[][]> {
  checkCompatibleVocabularies(target.vocabulary, draft.vocabulary);
  const options = { maxTokens: MAX_TOKENS, sampling };
  const drafter = new ModelDrafter(draft, sampling, { targetVocabularySize: target.vocabulary.size });
  const expected: number[][] = [];
  for (const prompt of PROMPTS) {
    const alone = await targetOnlyTokens(target, prompt, options);
    expected.push(alone);
    for (const name of policies)
      assert.deepEqual(
        await speculativeTokens(target, drafter, prompt, { ...options, policy: POLICIES[name](4) }),
        alone,
        `${name} on ${JSON.stringify(prompt)}`,
      );
  }
  drafter.dispose();
  return expected;
}

test("the padding tokens would be drafted from whole rows: they are the padded drafter's argmax at most positions", async () => {
  const tokens = models.target.vocabulary.tokenize(PROMPTS[0], true);
  const session = await models.draft128.createSession();
  const rows = await session.evaluate(tokens.map((token, i) => ({ token, position: i, sequences: [0], logits: true })));
  let padding = 0;
  for (let i = 0; i < rows.count; i++) if ((rows.capabilities.summaries?.summary(i).top[0] ?? -1) >= 8192) padding++;
  session.dispose();
  // Measured: every position; half would do to show that only the shared range is read.
  assert.ok(padding > rows.count / 2, `${padding} of ${rows.count}`);
});

test("a drafter padded with 128 tokens: greedy text under every policy equals the target's own", async () => {
  await assertIdentical(models.target, models.draft128, GREEDY);
});

test("a drafter padded with 128 tokens: coupled sampling gives the target's own text too (T = 0.8; a chain and a tree)", async () => {
  await assertIdentical(models.target, models.draft128, { mode: "sample", temperature: 0.8, topK: 0, topP: 1, seed: 5, rule: "coupled" }, ["chain", "tree"]);
});

test("a target with 128 more tokens than its drafter: greedy text equals the target's own, past tokens the drafter lacks", async () => {
  const expected = await assertIdentical(models.target128, models.draft, GREEDY, ["chain", "tree", "adaptive"]);
  // The target emits padding tokens (the drafter drafts nothing after one), some after several ordinary tokens.
  const firstPadding = expected.map((tokens) => tokens.findIndex((t) => t >= 8192));
  assert.ok(
    firstPadding.some((i) => i >= 4),
    `the target's first padding tokens come at ${firstPadding}: the test needs one after the drafter has drafted`,
  );
});

test("through the CLI: the 128-padded drafter gives target-only text; the 129-padded one is refused in one line", async () => {
  const common = ["generate", "--prompt", PROMPTS[1], "--max-tokens", "24", "--threads", "1", "--json"];
  const alone = await runCli([...common, "--target-only"]);
  const padded = await runCli([...common, "--draft", files.draft128, "--policy", "chain"]);
  assert.equal(padded.code, 0, padded.stderr);
  assert.equal(JSON.parse(padded.stdout).text, JSON.parse(alone.stdout).text);
  assert.ok(JSON.parse(padded.stdout).metrics.accepted > 0, "the padded drafter drafted tokens the target accepted");
  const refused = await runCli([...common, "--draft", files.draft129]);
  assert.equal(refused.code, 1);
  assert.equal(refused.stderr, "verispec: the drafter's vocabulary has 8321 tokens, the target's 8192: they may differ by at most 128, not 129\n");
});
