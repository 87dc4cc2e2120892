/**
 * The serving load generator against the real server on loopback (n-gram models, so it runs in a second):
 * a small soak at concurrency 8 mixing streamed and whole responses with clients that hang up, checked
 * request by request, then every slot free; and a request retried once where a kept-alive connection was
 * closed. (The level summary's arithmetic: test/unit/serveSummary.test.ts.)
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { runLoad } from "../src/bench/serveLoad.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { VerispecServer } from "../src/server/httpServer.js";
import { ServingEngine } from "../src/server/servingEngine.js";

test("a small soak: 80 requests at concurrency 8, half streamed, 1 in 10 hanging up; no errors, every slot free", async () => {
  // eosBias -30: no request ends early, so every whole or streamed response has exactly max_tokens tokens.
  const target = NgramModel.create({ seed: 3, eosBias: -30 });
  const engine = new ServingEngine({
    target,
    draft: target.blend(0.3, 8),
    modelId: "ngram",
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel: 8,
    maxWaiting: 8,
    contextSize: 256,
    policy: "adaptive",
    policyOptions: { k: 4 },
  });
  const server = new VerispecServer(Promise.resolve(engine), { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  const { records } = await runLoad({
    url,
    model: "ngram",
    prompts: ["the cat", "a dog ran", "on the mat"],
    requests: 80,
    concurrency: 8,
    // Long enough that a hang-up after the first chunk always reaches the server mid-generation: the n-gram
    // model answers at once, so a generation of 24 tokens that drafts nothing could end before the
    // scheduler lets the event loop see the closed socket (it does every 2 ms).
    maxTokens: 160,
    streamShare: 0.5,
    abortShare: 0.2,
    body: { temperature: 0 },
  });
  // Odd-numbered requests stream (share 0.5); of those the ones share 0.2 picks (9, 19, ..., 79) hang up: 40 streamed, 8 aborted.
  assert.equal(records.filter((r) => r.streamed).length, 40);
  assert.equal(records.filter((r) => r.aborted).length, 8);
  assert.deepEqual(
    records.filter((r) => r.error).map((r) => r.error),
    [],
  );
  for (const r of records.filter((r) => !r.aborted)) assert.equal(r.completionTokens, 160, `request ${r.index}`);
  for (const r of records.filter((r) => r.streamed && !r.aborted)) assert.ok(r.ttftMs > 0 && r.gapsMs.length > 0);
  const health = await waitForIdle(url);
  assert.deepEqual(health, { status: "ok", slots_processing: 0, requests_deferred: 0 });
  const metrics = await (await fetch(`${url}/metrics`)).text();
  assert.match(metrics, /^verispec:requests_finished_total\{finished_reason="aborted"\} 8$/m);
  assert.match(metrics, /^verispec:requests_finished_total\{finished_reason="length"\} 72$/m);
  await server.close();
});

test("a request lost to a kept-alive connection the server closed is sent once more; a server that keeps dropping it is an error", async () => {
  // A server that drops the first `drops` requests it gets without answering (as llama-server's HTTP library
  // closes a kept-alive connection between requests), and answers the others with 3 completion tokens.
  const serve = async (drops: number) => {
    let seen = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        if (seen++ < drops) req.socket.destroy();
        else res.end(JSON.stringify({ choices: [{ text: "abc" }], usage: { completion_tokens: 3 } }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const { records } = await runLoad({
      url: `http://127.0.0.1:${port}`,
      model: "m",
      prompts: ["p"],
      requests: 2,
      concurrency: 1,
      maxTokens: 3,
      streamShare: 0,
    });
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    return records;
  };
  // One drop: the first request goes again and succeeds; the second never needed to.
  const once = await serve(1);
  assert.deepEqual(
    once.map((r) => [r.retried, r.error, r.completionTokens]),
    [
      [true, undefined, 3],
      [false, undefined, 3],
    ],
  );
  // Two drops: the first request fails its retry too, an error that says why; the second is answered.
  const twice = await serve(2);
  assert.match(twice[0].error ?? "", /fetch failed \((UND_ERR_SOCKET|ECONNRESET)/);
  assert.deepEqual([twice[0].retried, twice[1].error, twice[1].completionTokens], [true, undefined, 3]);
});

async function waitForIdle(url: string): Promise<unknown> {
  for (let i = 0; i < 100; i++) {
    const h = (await (await fetch(`${url}/health`)).json()) as { slots_processing: number };
    if (h.slots_processing === 0) return h;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error("slots did not free");
}
