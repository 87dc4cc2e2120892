/**
 * `verispec serve` as users meet it: the real HTTP server on loopback over the embedded pair (llama.cpp),
 * driven by the official `openai` client. Greedy text through the server is the target's own, alone and
 * under concurrency; streaming gives the same text in chunks, then the finish reason, usage and [DONE]; bad
 * input gets an OpenAI error object while other requests go on; a full queue is 429, a missing key 401,
 * a client that disconnects frees its slot, and /health, /metrics and /v1/models answer.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { LlamaCppModel } from "../src/backends/llamaCpp/llamaCppModel.js";
import { generateTargetOnly } from "../src/decoding/targetOnly.js";
import { collectGeneration } from "../src/metrics/generationMetrics.js";
import type { LanguageModel } from "../src/model/session.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { type ServerOptions, VerispecServer } from "../src/server/httpServer.js";
import { type EngineOptions, ServingEngine } from "../src/server/servingEngine.js";
import { embeddedModelPaths } from "../src/util/embeddedModels.js";
import { waitFor } from "./helpers/serve.js";

const MODEL = "verispec-target";
const CONTEXT = 256;
const PROMPTS = ["def add(a, b):", "import os\n\n\ndef main():", "class Stack:\n    def __init__(self):", "for i in range(10):", "def is_prime(n):"];

let target: LanguageModel;
let draft: LanguageModel;

function engineFor(parallel: number, maxWaiting = 16, extra: Partial<EngineOptions> = {}): ServingEngine {
  return new ServingEngine({
    target,
    draft,
    modelId: MODEL,
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel,
    maxWaiting,
    contextSize: CONTEXT,
    policy: "chain",
    policyOptions: { k: 4, tree: { budget: 4 } },
    ...extra,
  });
}

/** A server on a free loopback port and an openai client for it (no retries, so 429s are seen). */
async function serve(engine: Promise<ServingEngine>, o: Partial<ServerOptions> = {}) {
  const server = new VerispecServer(engine, { host: "127.0.0.1", port: 0, ...o });
  const { url } = await server.listen();
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: o.apiKey ?? "none", maxRetries: 0 });
  return { server, url, client };
}

async function targetOnlyText(prompt: string, maxTokens: number): Promise<string> {
  return (await collectGeneration(generateTargetOnly(target, prompt, { maxTokens, contextSize: CONTEXT }))).text;
}

before(async () => {
  const p = embeddedModelPaths();
  target = await LlamaCppModel.load(p.target, { threads: 2 });
  draft = await LlamaCppModel.load(p.draft, { threads: 2 });
});

after(() => {
  target.dispose();
  draft.dispose();
});

describe("one server, 4 slots", () => {
  let s: Awaited<ReturnType<typeof serve>>;
  before(async () => {
    s = await serve(Promise.resolve(engineFor(4)));
  });
  after(() => s.server.close());

  test("a greedy completion is the target's own text, with usage and speculative timings", async () => {
    const r = await s.client.completions.create({ model: MODEL, prompt: PROMPTS[0], max_tokens: 40, temperature: 0 });
    assert.equal(r.choices[0].text, await targetOnlyText(PROMPTS[0], 40));
    assert.equal(r.choices[0].finish_reason, "length");
    assert.equal(r.usage?.completion_tokens, 40);
    const timings = (r as unknown as { timings: { draft_n: number; draft_n_accepted: number; mean_accepted_per_block: number } }).timings;
    assert.ok(timings.draft_n > 0 && timings.draft_n_accepted <= timings.draft_n && timings.mean_accepted_per_block >= 1);
  });

  test("streamed chat gives the same text as the whole response, then the finish reason, usage and [DONE]", async () => {
    const messages = [{ role: "user" as const, content: PROMPTS[1] }];
    const whole = await s.client.chat.completions.create({ model: MODEL, messages, max_tokens: 30, temperature: 0 });
    const stream = await s.client.chat.completions.create({
      model: MODEL,
      messages,
      max_tokens: 30,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    let role: string | undefined;
    for await (const chunk of stream) {
      role ??= chunk.choices[0]?.delta.role;
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    assert.equal(text, whole.choices[0].message.content);
    assert.equal(role, "assistant");
    assert.deepEqual(finishes, [whole.choices[0].finish_reason]);
    assert.deepEqual(usage, whole.usage);
    // The plain template (the embedded pair has none): the message's content is the prompt.
    assert.equal(text, await targetOnlyText(PROMPTS[1], 30));
  });

  test("8 concurrent greedy requests with different prompts and policies each get their target-only text", async () => {
    const policies = ["chain", "tree", "adaptive", "cascade"];
    const jobs = Array.from({ length: 8 }, (_, i) => ({ prompt: PROMPTS[i % PROMPTS.length] + " ".repeat(i >> 2), policy: policies[i % 4], k: 2 + (i % 5) }));
    const results = await Promise.all(
      jobs.map((j, i) =>
        i % 2 === 0
          ? s.client.completions
              .create({
                model: MODEL,
                prompt: j.prompt,
                max_tokens: 32,
                temperature: 0,
                verispec: { policy: j.policy, k: j.k },
              } as OpenAI.CompletionCreateParamsNonStreaming)
              .then((r) => r.choices[0].text)
          : streamedText(s.client, j.prompt, { policy: j.policy, k: j.k }),
      ),
    );
    for (const [i, j] of jobs.entries()) assert.equal(results[i], await targetOnlyText(j.prompt, 32), `request ${i} (${j.policy})`);
  });

  test("bad requests get a 400 error object naming the problem, and the server keeps serving", async () => {
    const long = "x = 1\n".repeat(200);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ max_tokens: 0 }, /max_tokens/],
      [{ max_tokens: CONTEXT + 1 }, /over the context/],
      [{ prompt: long }, /the prompt has \d+ tokens but the context holds 256/],
      [{ n: 2 }, /only n = 1/],
      [{ model: "gpt-4o" }, /not served here/],
      [{ temperature: "hot" }, /'temperature' must be a number/],
      [{ prompt: { text: "a" } }, /'prompt' must be/],
      [{ verispec: { policy: "magic" } }, /unknown policy 'magic'/],
      [{ stop: [""] }, /'stop'/],
    ];
    for (const [change, message] of cases) {
      const body = { model: MODEL, prompt: "def f():", max_tokens: 4, ...change } as OpenAI.CompletionCreateParamsNonStreaming;
      await assert.rejects(
        s.client.completions.create(body),
        (e: unknown) => e instanceof OpenAI.BadRequestError && message.test(e.message),
        JSON.stringify(change),
      );
    }
    const malformed = await fetch(`${s.url}/v1/chat/completions`, { method: "POST", body: "{not json", headers: { "content-type": "application/json" } });
    assert.equal(malformed.status, 400);
    assert.match(((await malformed.json()) as { error: { message: string } }).error.message, /not valid JSON/);
    const r = await s.client.completions.create({ model: MODEL, prompt: PROMPTS[0], max_tokens: 8, temperature: 0 });
    assert.equal(r.choices[0].text, await targetOnlyText(PROMPTS[0], 8));
  });

  test("a client that disconnects mid-stream frees its slot; /health, /v1/models and /metrics answer", async () => {
    const abort = new AbortController();
    const stream = await s.client.completions.create(
      { model: MODEL, prompt: PROMPTS[0], max_tokens: 250, temperature: 0, stream: true },
      { signal: abort.signal },
    );
    let chunks = 0;
    // The client's stream ends quietly when its signal aborts; the server sees the connection close.
    for await (const _ of stream) if (++chunks === 1) abort.abort();
    assert.equal(chunks, 1);
    const health = await waitFor(async () => {
      const h = (await (await fetch(`${s.url}/health`)).json()) as { status: string; slots_processing: number };
      return h.slots_processing === 0 ? h : undefined;
    });
    assert.equal(health.status, "ok");
    const models = await s.client.models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      [MODEL],
    );
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    assert.match(metrics, /^verispec:requests_finished_total\{finished_reason="aborted"\} [1-9]/m);
    assert.match(metrics, /^verispec:spec_decode_num_accepted_tokens_per_pos_total\{position="0"\} [1-9]/m);
    assert.match(metrics, /^verispec:tokens_predicted_total [1-9]/m);
  });
});

test("a full queue answers 429 at once; the requests already in go on", async () => {
  const s = await serve(Promise.resolve(engineFor(1, 0)));
  const first = s.client.completions.create({ model: MODEL, prompt: PROMPTS[3], max_tokens: 60, temperature: 0 });
  await new Promise((r) => setTimeout(r, 20));
  await assert.rejects(s.client.completions.create({ model: MODEL, prompt: PROMPTS[4], max_tokens: 4 }), OpenAI.RateLimitError);
  assert.equal((await first).choices[0].text, await targetOnlyText(PROMPTS[3], 60));
  await s.server.close();
});

test("with --api-key every route but /health wants the key; without models loaded /health is 503", async () => {
  const s = await serve(Promise.resolve(engineFor(1)), { apiKey: "sekrit" });
  const wrong = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "guess", maxRetries: 0 });
  await assert.rejects(wrong.models.list(), OpenAI.AuthenticationError);
  assert.equal((await fetch(`${s.url}/metrics`)).status, 401);
  assert.equal((await s.client.models.list()).data[0].id, MODEL);
  assert.equal((await fetch(`${s.url}/health`)).status, 200);
  await s.server.close();
  const loading = await serve(new Promise<ServingEngine>(() => {}));
  assert.equal((await fetch(`${loading.url}/health`)).status, 503);
  await assert.rejects(loading.client.models.list(), (e: unknown) => e instanceof OpenAI.APIError && e.status === 503);
  await loading.server.close();
});

test("a generation past the request timeout ends with a timeout error", async () => {
  const s = await serve(Promise.resolve(engineFor(1)), { timeoutMs: 30 });
  await assert.rejects(
    s.client.completions.create({ model: MODEL, prompt: PROMPTS[0], max_tokens: 250, temperature: 0 }),
    (e: unknown) => e instanceof OpenAI.APIError && e.status === 408 && /request timeout/.test(e.message),
  );
  await s.server.close();
});

test("with a suffix corpus, an answer asked for again is drafted from its start, and is still the target's own text", async () => {
  const engine = engineFor(1, 16, { corpusTokens: 4096, policyOptions: { k: 16 } });
  const s = await serve(Promise.resolve(engine));
  type Timed = { choices: { text: string }[]; timings: { draft_n: number; draft_n_accepted: number } };
  const ask = async () =>
    (await s.client.completions.create({
      model: MODEL,
      prompt: PROMPTS[1],
      max_tokens: 48,
      temperature: 0,
      verispec: { draft: "suffix" },
    } as OpenAI.CompletionCreateParamsNonStreaming)) as unknown as Timed;
  const first = await ask();
  const second = await ask();
  assert.equal(second.choices[0].text, first.choices[0].text);
  assert.equal(first.choices[0].text, await targetOnlyText(PROMPTS[1], 48));
  // The first drafts only where its own text repeats; the second has the first's prompt and answer to draft from.
  assert.ok(second.timings.draft_n_accepted > first.timings.draft_n_accepted + 10, `${JSON.stringify(first.timings)} then ${JSON.stringify(second.timings)}`);
  assert.equal(engine.corpus?.size, 2);
  await s.server.close();
});

async function streamedText(client: OpenAI, prompt: string, verispec: object): Promise<string> {
  const body = { model: MODEL, prompt, max_tokens: 32, temperature: 0, stream: true, verispec } as OpenAI.CompletionCreateParamsStreaming;
  let text = "";
  for await (const chunk of await client.completions.create(body)) text += chunk.choices[0]?.text ?? "";
  return text;
}
