/**
 * Models with 128k training contexts and RoPE scaling, as Llama-3.1 (its rope_freqs factors) and YaRN-scaled models
 * describe them: random fixtures of that shape load with llama.cpp reading the scaling, sessions, `generate` and
 * `serve` size their contexts at most DEFAULT_CONTEXT_SIZE rather than 131,072, and a prompt longer than that with
 * `--context 8192` generates, speculative greedy text equal to the target's own (in process, the CLI and the server).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import type { RandomLlamaOptions } from "../src/gguf/randomLlama.js";
import { DEFAULT_CONTEXT_SIZE, type LanguageModel } from "../src/model/session.js";
import { GREEDY } from "../src/sampling/samplingSettings.js";
import { runCli } from "./helpers/cli.js";
import { fixturePair, fixturePrompts, LONG_LLAMA_3_1, LONG_YARN } from "./helpers/fixtures.js";
import { drafterKinds, speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { POLICIES } from "./helpers/policies.js";
import { startServe } from "./helpers/serve.js";

const LONG_CONTEXT = 8192;
const MAX_TOKENS = 24;
/** About 5,000 tokens of the fixture's vocabulary: more than DEFAULT_CONTEXT_SIZE, within LONG_CONTEXT with room to generate. */
const LONG_PROMPT = fixturePrompts(240, 5).join(" ");

/** The last position's logits after the prompt (one pass), to tell models apart. */
async function lastRow(model: LanguageModel, prompt: string): Promise<number[]> {
  const tokens = model.vocabulary.tokenize(prompt, true);
  const session = await model.createSession();
  const rows = await session.evaluate(tokens.map((token, i) => ({ token, position: i, sequences: [0], logits: i === tokens.length - 1 })));
  const row = [...rows.row(0)];
  session.dispose();
  return row;
}

const load = (file: string) => LlamaCppModel.load(file, { threads: 1 });

for (const [name, options] of [
  ["Llama-3.1's rope_freqs", LONG_LLAMA_3_1],
  ["YaRN", LONG_YARN],
] as [string, RandomLlamaOptions][])
  test(`a 128k-context model with ${name} loads; llama.cpp reads its training context and scaling; sessions default to ${DEFAULT_CONTEXT_SIZE}`, async () => {
    const scaled = await load(fixturePair(options).target);
    // The same weights (same seed and shape) and rope base without the scaling.
    const plain = await load(fixturePair({ ...options, ropeScaling: undefined }).target);
    try {
      assert.equal(scaled.trainContextSize, 131_072);
      const session = await scaled.createSession();
      assert.equal(session.contextSize, DEFAULT_CONTEXT_SIZE, "a session without a size takes the default, not the 128k training context");
      session.dispose();
      // Scaling changes every rotation past position 0, so the logits after a few tokens differ: llama.cpp read it.
      const [a, b] = [await lastRow(scaled, "the cat sat on a mat"), await lastRow(plain, "the cat sat on a mat")];
      assert.ok(Math.max(...a.map((x, i) => Math.abs(x - b[i]))) > 1e-3, "the scaled model's logits are the unscaled one's");
    } finally {
      scaled.dispose();
      plain.dispose();
    }
  });

describe("a prompt longer than the default context, on the Llama-3.1-shaped fixture", () => {
  const files = fixturePair(LONG_LLAMA_3_1);
  const pair = {} as { target: LanguageModel; draft: LanguageModel };
  let promptLength = 0;
  before(async () => {
    Object.assign(pair, { target: await load(files.target), draft: await load(files.draft) });
    promptLength = pair.target.vocabulary.tokenize(LONG_PROMPT, true).length;
  });
  after(() => {
    pair.target.dispose();
    pair.draft.dispose();
  });

  test(`it is longer than ${DEFAULT_CONTEXT_SIZE} tokens and fits ${LONG_CONTEXT}`, () => {
    assert.ok(promptLength > DEFAULT_CONTEXT_SIZE && promptLength + MAX_TOKENS + 128 < LONG_CONTEXT, `${promptLength} tokens`);
  });

  test("greedy speculative text equals the target's own in a context of 8192 (chain, tree, adaptive; draft model and suffix)", async () => {
    const options = { maxTokens: MAX_TOKENS, sampling: GREEDY, contextSize: LONG_CONTEXT };
    const expected = await targetOnlyTokens(pair.target, LONG_PROMPT, options);
    assert.equal(expected.length, MAX_TOKENS);
    const kinds = drafterKinds(pair.target, pair.draft, options);
    for (const drafterName of ["model", "suffix"]) {
      const drafter = kinds[drafterName]();
      for (const policy of ["chain", "tree", "adaptive"])
        assert.deepEqual(
          await speculativeTokens(pair.target, drafter, LONG_PROMPT, { ...options, policy: POLICIES[policy](4) }),
          expected,
          `${drafterName}, ${policy}`,
        );
      drafter.dispose();
    }
  });

  test("generate: refused in the default context (4096, one line), and with --context 8192 the same text speculative and target-only", async () => {
    const args = [
      "generate",
      "--target",
      files.target,
      "--draft",
      files.draft,
      "--threads",
      "1",
      "--max-tokens",
      String(MAX_TOKENS),
      "--json",
      "--prompt",
      LONG_PROMPT,
    ];
    const refused = await runCli(args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr.trim(), new RegExp(`^verispec: .*the prompt has ${promptLength} tokens but the context holds ${DEFAULT_CONTEXT_SIZE}`));
    assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
    const speculative = await runCli([...args, "--context", String(LONG_CONTEXT)]);
    const alone = await runCli([...args, "--context", String(LONG_CONTEXT), "--target-only"]);
    assert.equal(speculative.code, 0, speculative.stderr);
    assert.equal(alone.code, 0, alone.stderr);
    assert.ok(JSON.parse(alone.stdout).text.length > 0);
    assert.equal(JSON.parse(speculative.stdout).text, JSON.parse(alone.stdout).text);
  });

  test("serve: slots of 4096 by default; with --context 8192 a long prompt's completion is the target's own text", async () => {
    const args = ["--target", files.target, "--draft", files.draft, "--threads", "1", "--model-name", "long"];
    const byDefault = startServe(args);
    try {
      await byDefault.saw(/ready: .*slots of \d+ tokens/);
      assert.match(byDefault.stderr(), new RegExp(`slots of ${DEFAULT_CONTEXT_SIZE} tokens`));
    } finally {
      byDefault.signal("SIGTERM");
      await byDefault.ended;
    }
    const server = startServe([...args, "--context", String(LONG_CONTEXT)]);
    let served: string;
    try {
      await server.saw(/ready: .*slots of 8192 tokens/);
      const response = await fetch(`${await server.url}/v1/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "long", prompt: LONG_PROMPT, max_tokens: MAX_TOKENS, temperature: 0 }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      served = ((await response.json()) as { choices: { text: string }[] }).choices[0].text;
    } finally {
      server.signal("SIGTERM");
      await server.ended;
    }
    const alone = await targetOnlyTokens(pair.target, LONG_PROMPT, { maxTokens: MAX_TOKENS, sampling: GREEDY, contextSize: LONG_CONTEXT });
    assert.equal(served, Buffer.concat(alone.map((t) => pair.target.vocabulary.piece(t))).toString("utf8"));
  });
});
