/**
 * Seeded sampling through `verispec serve` (the coupled rule, the server's default): a request with a seed gets
 * the text the target alone samples with that seed, whatever policy and drafter it asks for (the real HTTP server,
 * the official `openai` client): on the embedded pair one at a time, and 8 at once on the GGUF fixtures. Why not
 * the embedded pair 8 at once here: on this CPU, ggml-cpu's attention gives a request in a pass of 8 slots logits
 * up to ~0.2 away from its logits alone (measured from its first step), which greedy text mostly survives and
 * sampled text at T = 0.8 does not; the scheduler is exact wherever the backend's numbers do not depend on the
 * pass (the fixtures here, the n-gram models, CUDA with --batch-invariant).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import OpenAI from "openai";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import type { LanguageModel } from "../src/model/session.js";
import { samplingFrom } from "../src/sampling/samplingSettings.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { VerispecServer } from "../src/server/httpServer.js";
import { ServingEngine } from "../src/server/servingEngine.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { EVERY_POLICY_AND_DRAFTER } from "./helpers/asks.js";
import { fixturePrompts, loadFixturePair } from "./helpers/fixtures.js";

const MODEL = "verispec-target";
const CONTEXT = 256;
const PROMPT = "def fibonacci(n):";
const SEED = 42;
const ASKS = EVERY_POLICY_AND_DRAFTER;

interface Served {
  target: LanguageModel;
  draft: LanguageModel;
  server: VerispecServer;
  client: OpenAI;
}

async function serve(target: LanguageModel, draft: LanguageModel): Promise<Served> {
  const engine = new ServingEngine({
    target,
    draft,
    modelId: MODEL,
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel: 8,
    maxWaiting: 16,
    contextSize: CONTEXT,
    policy: "adaptive",
    policyOptions: { k: 4, tree: { budget: 4 } },
  });
  const server = new VerispecServer(Promise.resolve(engine), { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  return { target, draft, server, client: new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 }) };
}

async function completion(s: Served, prompt: string, ask: Record<string, unknown>): Promise<string> {
  const body = { model: MODEL, prompt, max_tokens: 64, temperature: 0.8, seed: SEED, verispec: ask };
  // biome-ignore lint/suspicious/noExplicitAny: the verispec extension is not in the client's types.
  const r = await s.client.completions.create(body as any);
  return r.choices[0].text;
}

async function targetAlone(s: Served, prompt: string): Promise<string> {
  const sampling = samplingFrom({ temperature: 0.8, seed: SEED, rule: "coupled" });
  return (await collectGeneration(generateTargetOnly(s.target, prompt, { maxTokens: 64, contextSize: CONTEXT, sampling }))).text;
}

const servers: Served[] = [];
before(async () => {
  const p = embeddedModelPaths();
  servers.push(await serve(await LlamaCppModel.load(p.target, { threads: 2 }), await LlamaCppModel.load(p.draft, { threads: 2 })));
  const fixtures = await loadFixturePair();
  servers.push(await serve(fixtures.target, fixtures.draft));
});

after(async () => {
  for (const s of servers) {
    await s.server.close();
    s.target.dispose();
    s.draft.dispose();
  }
});

test("embedded pair: a seeded request gets the target alone's text with that seed, under every policy and drafter", async () => {
  const [s] = servers;
  const expected = await targetAlone(s, PROMPT);
  assert.ok(expected.length > 20, "the target wrote something");
  for (const ask of ASKS) assert.equal(await completion(s, PROMPT, ask), expected, JSON.stringify(ask));
});

test("GGUF fixtures: 8 seeded requests at once, every policy and drafter, each get the target alone's text", async () => {
  const s = servers[1];
  const prompts = fixturePrompts(8, 41);
  const expected = await Promise.all(prompts.map((p) => targetAlone(s, p)));
  const together = await Promise.all(ASKS.map((ask, i) => completion(s, prompts[i], ask)));
  for (const [i, text] of together.entries()) assert.equal(text, expected[i], JSON.stringify(ASKS[i]));
});
