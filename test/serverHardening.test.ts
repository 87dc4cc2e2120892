/**
 * The server's production edges, in process over the n-gram model (no model to load, so it runs in seconds):
 * clients that give up while queued leave the queue at once; fields of features the server lacks are refused;
 * HTTP details (Retry-After, 415, 405 with Allow, a real `created`); the Bearer scheme in any case; and a drain
 * that lets short requests finish and cuts the rest with an error.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { type ServerOptions, VerispecServer } from "../src/server/httpServer.js";
import { ServingEngine } from "../src/server/servingEngine.js";

const MODEL = "ngram";
// Room for a generation that outlasts every test here: the n-gram model emits a token in microseconds.
const CONTEXT = 200_000;
const LONG = CONTEXT - 100;

function engineFor(parallel: number, maxWaiting: number): ServingEngine {
  // eosBias -30: a generation never ends early, so a long request stays in its slot until aborted.
  const target = NgramModel.create({ seed: 3, eosBias: -30, contextSize: CONTEXT });
  return new ServingEngine({
    target,
    modelId: MODEL,
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel,
    maxWaiting,
    contextSize: CONTEXT,
    defaultDraft: "none",
    policy: "chain",
    policyOptions: { k: 4 },
  });
}

async function serve(parallel: number, maxWaiting: number, o: Partial<ServerOptions> = {}) {
  const server = new VerispecServer(Promise.resolve(engineFor(parallel, maxWaiting)), { host: "127.0.0.1", port: 0, ...o });
  const { url } = await server.listen();
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: o.apiKey ?? "none", maxRetries: 0 });
  return { server, url, client };
}

type Served = Awaited<ReturnType<typeof serve>>;

async function health(url: string): Promise<{ slots_processing: number; requests_deferred: number }> {
  return (await (await fetch(`${url}/health`)).json()) as { slots_processing: number; requests_deferred: number };
}

async function waitFor(probe: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A streamed request that runs until its signal aborts, once its first chunk has arrived (it holds a slot). */
async function longStream(s: Served, abort: AbortController): Promise<void> {
  const body = { model: MODEL, prompt: "the cat", max_tokens: LONG, stream: true } as const;
  const stream = await s.client.completions.create(body, { signal: abort.signal });
  const reading = stream[Symbol.asyncIterator]();
  await reading.next();
  void (async () => {
    for (let r = await reading.next(); !r.done; r = await reading.next());
  })().catch(() => {});
}

/** A completions POST with exactly these headers (a body of bytes, so fetch adds no content type of its own). */
function post(url: string, body: unknown, headers: Record<string, string> = { "content-type": "application/json" }) {
  return fetch(`${url}/v1/completions`, { method: "POST", headers, body: Buffer.from(JSON.stringify(body)) });
}

test("queued clients that give up leave the queue at once: a new request is admitted within 1 s", async () => {
  const s = await serve(1, 2);
  const long = new AbortController();
  await longStream(s, long);
  const queued = [new AbortController(), new AbortController()];
  const whole = s.client.completions.create({ model: MODEL, prompt: "a dog", max_tokens: 8 }, { signal: queued[0].signal }).catch((e) => e);
  // A streamed request's headers come as soon as it is queued.
  await s.client.completions.create({ model: MODEL, prompt: "a dog", max_tokens: 8, stream: true }, { signal: queued[1].signal });
  await waitFor(async () => (await health(s.url)).requests_deferred === 2, 2000);
  for (const q of queued) q.abort();
  const aborted = Date.now();
  assert.ok((await whole) instanceof OpenAI.APIUserAbortError);
  await waitFor(async () => (await health(s.url)).requests_deferred === 0, 1000);
  // One slot busy and 2 places in the queue: this is admitted (a streamed 200) only if the aborted two left.
  const next = new AbortController();
  const admitted = await fetch(`${s.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, prompt: "on the mat", max_tokens: 8, stream: true }),
    signal: next.signal,
  });
  assert.equal(admitted.status, 200);
  assert.ok(Date.now() - aborted < 1000, `admitted ${Date.now() - aborted} ms after the aborts`);
  next.abort();
  long.abort();
  await waitFor(async () => (await health(s.url)).slots_processing === 0, 2000);
  await s.server.close();
});

describe("one server, 1 slot, no queue", () => {
  let s: Served;
  before(async () => {
    s = await serve(1, 0, { apiKey: "sekrit" });
  });
  after(() => s.server.close());

  test("tools, tool_choice, response_format and logit_bias are refused with a 400 naming the field; their no-op values are accepted", async () => {
    const messages = [{ role: "user" as const, content: "the cat" }];
    const tool = { type: "function" as const, function: { name: "f", parameters: {} } };
    const refused: [string, Partial<OpenAI.ChatCompletionCreateParamsNonStreaming>][] = [
      ["tools", { tools: [tool] }],
      ["tool_choice", { tool_choice: "auto" }],
      ["response_format", { response_format: { type: "json_object" } }],
      ["logit_bias", { logit_bias: { "10": -100 } }],
    ];
    for (const [field, change] of refused) {
      await assert.rejects(
        s.client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, ...change }),
        (e: unknown) =>
          e instanceof OpenAI.BadRequestError && e.param === field && e.type === "invalid_request_error" && e.message.includes(`'${field}' is not supported`),
        field,
      );
    }
    // Values that ask for none of the feature change nothing, so they are taken.
    const noOps = { response_format: { type: "text" as const }, tool_choice: "none" as const, logit_bias: {} };
    const r = await s.client.chat.completions.create({ model: MODEL, messages, max_tokens: 4, ...noOps });
    assert.equal(r.choices[0].finish_reason, "length");
  });

  test("a full server's 429 says Retry-After; a non-JSON content type is 415; a wrong method on a route is 405 with Allow", async () => {
    const auth = { authorization: "Bearer sekrit" };
    const long = new AbortController();
    await longStream(s, long);
    const full = await post(s.url, { model: MODEL, prompt: "a", max_tokens: 4 }, { ...auth, "content-type": "application/json" });
    assert.equal(full.status, 429);
    assert.equal(full.headers.get("retry-after"), "1");
    long.abort();
    await waitFor(async () => (await health(s.url)).slots_processing === 0, 2000);
    const text = await post(s.url, { model: MODEL, prompt: "a" }, { ...auth, "content-type": "text/plain" });
    assert.equal(text.status, 415);
    assert.match(((await text.json()) as { error: { message: string } }).error.message, /must be application\/json/);
    // OpenAI's clients always say application/json; a body without a content type is taken as JSON.
    const bare = await post(s.url, { model: MODEL, prompt: "a", max_tokens: 2 }, auth);
    assert.equal(bare.status, 200);
    const cases: [string, string, string][] = [
      ["DELETE", "/health", "GET, HEAD"],
      ["POST", "/v1/models", "GET, HEAD"],
      ["GET", "/v1/chat/completions", "POST"],
    ];
    for (const [method, path, allow] of cases) {
      const r = await fetch(`${s.url}${path}`, { method, headers: auth });
      assert.equal(r.status, 405, `${method} ${path}`);
      assert.equal(r.headers.get("allow"), allow, `${method} ${path}`);
    }
    assert.equal((await fetch(`${s.url}/nowhere`, { headers: auth })).status, 404);
  });

  test("the key is taken with the Bearer scheme in any case; /v1/models says when the model was made", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"])
      assert.equal((await fetch(`${s.url}/v1/models`, { headers: { authorization: `${scheme} sekrit` } })).status, 200, scheme);
    for (const header of ["Bearer sekrit2", "Basic sekrit", "sekrit"])
      assert.equal((await fetch(`${s.url}/v1/models`, { headers: { authorization: header } })).status, 401, header);
    const models = await s.client.models.list();
    // This engine knows no model file, so `created` is the server's start: between this file's start and now.
    const created = models.data[0].created;
    assert.ok(created >= Math.floor(performance.timeOrigin / 1000) && created <= Date.now() / 1000, `created ${created}`);
  });
});

test("shutdown: new requests get 503, a short one finishes within the grace period, a long stream ends with an error and [DONE]", async () => {
  const s = await serve(2, 0);
  const long = fetch(`${s.url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model: MODEL, prompt: "the cat", max_tokens: LONG, stream: true }),
  });
  const reader = (await long).body!.getReader();
  await reader.read();
  // A stream's headers come once it is submitted: it is in flight when the shutdown starts.
  const short = await s.client.completions.create({ model: MODEL, prompt: "a dog", max_tokens: 50, stream: true });
  const closed = s.server.shutdown(1000);
  const refused = await post(s.url, { model: MODEL, prompt: "a", max_tokens: 2 });
  assert.equal(refused.status, 503);
  assert.equal((await fetch(`${s.url}/health`)).status, 503);
  const finishes: (string | null)[] = [];
  for await (const chunk of short) finishes.push(chunk.choices[0].finish_reason);
  assert.equal(finishes.at(-1), "length");
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
  assert.match(
    rest,
    /data: \{"error":\{"message":"the server shut down before this request finished.*"code":"server_shutting_down"\}\}\n\ndata: \[DONE\]\n\n$/,
  );
  await closed;
});
