/**
 * verispec drafting with the shipped EAGLE-3 head (EagleDrafter on the embedded target): lossless whatever the head
 * proposes. Greedy text equals the target alone's for every policy (trees included, whose winning siblings leave the
 * head a block without its last pair), seeded text at T = 0.8 equals the target alone's (coupled draws), and under
 * rejection sampling the first two tokens follow the target's distribution (chi-square), while a rule that is wrong
 * on purpose is caught.
 */
import assert from "node:assert/strict";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { readPromptFile } from "../src/bench/promptFile.js";
import { generateSpeculative } from "../src/decoding/speculativeLoop.js";
import { EagleDrafter } from "../src/drafters/eagleDrafter.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import { ChainPolicy } from "../src/policies/chainPolicy.js";
import { GREEDY, samplingFrom } from "../src/sampling/samplingSettings.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { packageRoot } from "../src/util/packageRoot.js";
import { brokenRule } from "./helpers/brokenRule.js";
import { chiSquareTest } from "./helpers/chiSquare.js";
import { runCli } from "./helpers/cli.js";
import { speculativeTokens, targetOnlyTokens } from "./helpers/generate.js";
import { POLICIES } from "./helpers/policies.js";

const PROMPTS = readPromptFile(path.join(packageRoot(), "..", "shared", "bench", "humaneval.jsonl"))
  .slice(0, 3)
  .map((p) => p.trimEnd());

let target: LlamaCppModel;
let head: LlamaCppModel;
before(async () => {
  target = await LlamaCppModel.load(embeddedModelPaths().target, { threads: 2 });
  head = await LlamaCppModel.load(embeddedModelPaths().head, { threads: 2 });
});
after(() => {
  head.dispose();
  target.dispose();
});

describe("drafting with the EAGLE-3 head", () => {
  test("greedy: every policy at k = 2 and 8 writes the target alone's text, and the head's drafts are accepted", async () => {
    const options = { maxTokens: 40, sampling: GREEDY };
    const expected = await Promise.all(PROMPTS.map((p) => targetOnlyTokens(target, p, options)));
    let blocks = 0;
    let accepted = 0;
    for (const name of ["chain", "tree", "cascade", "adaptive"])
      for (const k of [2, 8])
        for (const [i, prompt] of PROMPTS.entries()) {
          const drafter = new EagleDrafter(head, GREEDY);
          const steps = (await collectGeneration(generateSpeculative(target, drafter, prompt, { ...options, policy: POLICIES[name](k) }))).steps;
          assert.deepEqual(
            steps.flatMap((s) => s.tokens),
            expected[i],
            `${name} k=${k}, prompt ${i}`,
          );
          blocks += steps.length;
          accepted += steps.reduce((n, s) => n + s.accepted, 0);
          drafter.dispose();
        }
    // Not a drafter that proposes nothing: the head's drafts are accepted (measured here: about 1.5 a block).
    assert.ok(accepted / blocks > 0.5, `${accepted} drafts accepted in ${blocks} blocks`);
  });

  test("sampled with a seed (T = 0.8): chains and trees write the target alone's text for that seed", async () => {
    const sampling = samplingFrom({ temperature: 0.8, seed: 11 });
    const options = { maxTokens: 40, sampling };
    for (const [i, prompt] of PROMPTS.slice(0, 2).entries()) {
      const expected = await targetOnlyTokens(target, prompt, options);
      for (const name of ["chain", "tree"]) {
        const got = await speculativeTokens(target, new EagleDrafter(head, sampling), prompt, { ...options, policy: POLICIES[name](4) });
        assert.deepEqual(got, expected, `${name}, prompt ${i}`);
      }
    }
  });

  test("rejection sampling: the first two tokens follow the target's distribution; a wrong rule is caught", async () => {
    const prompt = "def add(a, b):";
    const sample = (seed: number) => samplingFrom({ temperature: 1, topK: 3, seed, rule: "rejection" });
    const exact = await exactTwoTokens(prompt);
    const runs = 1500;
    const counts = async (rule?: typeof brokenRule) => {
      const seen = new Map<string, number>();
      for (let seed = 1; seed <= runs; seed++) {
        const s = sample(seed);
        const options = { maxTokens: 2, sampling: s, policy: new ChainPolicy(2), ...(rule ? { sampledAcceptance: rule } : {}) };
        const key = (await speculativeTokens(target, new EagleDrafter(head, s), prompt, options)).join(",");
        seen.set(key, (seen.get(key) ?? 0) + 1);
      }
      return chiSquareTest(seen, exact, runs);
    };
    const fair = await counts();
    assert.ok(fair.pValue > 0.001, `chi-square ${fair.statistic.toFixed(1)} on ${fair.dof} dof, p = ${fair.pValue}`);
    const broken = await counts(brokenRule);
    assert.ok(broken.pValue < 1e-6, `the broken rule passed: chi-square ${broken.statistic.toFixed(1)} on ${broken.dof}, p = ${broken.pValue}`);
  });
  test("--batch-invariant (verispec's CPU build): the head's chains and trees write the target alone's text, greedy and seeded", async () => {
    const env = { VERISPEC_LLAMA_BUILD: "cpu" };
    const text = async (prompt: string, variant: string[], temperature: string[]) => {
      const args = ["generate", "--batch-invariant", "--max-tokens", "48", "--threads", "2", ...variant, ...temperature, "--prompt", prompt, "--json"];
      const run = await runCli(args, undefined, env);
      assert.equal(run.code, 0, run.stderr);
      return JSON.parse(run.stdout) as { text: string; metrics: { accepted: number } };
    };
    // Greedy, then T = 0.8 with a seed (the coupled rule: the seed's text whatever drafts it).
    for (const temperature of [[], ["--temperature", "0.8", "--seed", "3"]])
      for (const prompt of PROMPTS.slice(0, 1)) {
        const expected = (await text(prompt, ["--target-only"], temperature)).text;
        for (const variant of [
          ["--draft", "eagle", "--no-lookup-first", "--policy", "chain", "--k", "8"],
          ["--draft", "eagle", "--no-lookup-first", "--policy", "tree", "--k", "4"],
        ]) {
          const run = await text(prompt, variant, temperature);
          assert.equal(run.text, expected, `${variant.join(" ")} ${temperature.join(" ")}`);
          assert.ok(run.metrics.accepted > 0, "the head's drafts were accepted");
        }
      }
  });
});

/** The target's own distribution of its first two tokens under top-3 sampling at T = 1 (3 x 3 outcomes). */
async function exactTwoTokens(prompt: string): Promise<Map<string, number>> {
  const tokens = target.vocabulary.tokenize(prompt, true);
  const session = await target.createSession({ contextSize: 256 });
  const rowAfter = async (context: number[]) => {
    session.clear();
    const rows = await session.evaluate(context.map((token, position) => ({ token, position, sequences: [0], logits: position === context.length - 1 })));
    return topK(rows.row(0), 3);
  };
  const out = new Map<string, number>();
  for (const [a, pa] of await rowAfter(tokens)) for (const [b, pb] of await rowAfter([...tokens, a])) out.set(`${a},${b}`, pa * pb);
  session.dispose();
  return out;
}

/** The k most likely tokens of a row with their renormalised probabilities (softmax at T = 1 over the top k). */
function topK(row: Float32Array, k: number): [number, number][] {
  const ids = [...row.keys()].sort((x, y) => row[y] - row[x]).slice(0, k);
  const z = ids.reduce((sum, i) => sum + Math.exp(row[i] - row[ids[0]]), 0);
  return ids.map((i) => [i, Math.exp(row[i] - row[ids[0]]) / z]);
}
