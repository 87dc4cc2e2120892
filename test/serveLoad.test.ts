/**
 * The serving load generator against the real server on loopback (n-gram models, so it runs in a second):
 * a small soak at concurrency 8 mixing streamed and whole responses with clients that hang up, checked
 * request by request, then every slot free; and a request retried once where a kept-alive connection was
 * closed; a soak with clients hanging up at random times (some while waiting for a slot) and malformed
 * requests interleaved. (The level summary's arithmetic: test/unit/serveSummary.test.ts.)
 */
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { MALFORMED_KINDS } from "../src/bench/malformedRequests.js";
import { runLoad } from "../src/bench/serveLoad.js";
import { summarizeLevel } from "../src/bench/serveSummary.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { VerispecServer } from "../src/server/httpServer.js";
import { ServingEngine } from "../src/server/servingEngine.js";

/** The served engine's settings but its models: 8 slots, 8 places in the queue. */
const ENGINE = { modelId: "ngram", parallel: 8, maxWaiting: 8, contextSize: 256, policy: "adaptive", policyOptions: { k: 4 } };

test("a small soak: 80 requests at concurrency 8, half streamed, 1 in 10 hanging up; no errors, every slot free", async () => {
  // eosBias -30: no request ends early, so every whole or streamed response has exactly max_tokens tokens.
  const target = NgramModel.create({ seed: 3, eosBias: -30 });
  const engine = new ServingEngine({ ...ENGINE, target, draft: target.blend(0.3, 8), chatTemplate: chatTemplateFrom(undefined, target.vocabulary) });
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

test("a soak with hang-ups at random times and malformed requests: those get a 4xx, hang-ups land in the queue too, no errors, all free", async () => {
  const target = NgramModel.create({ seed: 3, eosBias: -30 });
  // Two slots for eight clients: most requests wait for a slot, so hang-ups within 200 ms land there too. A queue
  // of 64: a client that hangs up while waiting keeps its place until the scheduler reaches it, and the next
  // request of its worker may come before the server sees the hang-up, so a queue of 6 could be full at times.
  const engine = new ServingEngine({
    ...ENGINE,
    target,
    draft: target.blend(0.3, 8),
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel: 2,
    maxWaiting: 64,
  });
  const server = new VerispecServer(Promise.resolve(engine), { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  const load = { url, model: "ngram", prompts: ["the cat", "a dog ran", "on the mat"], concurrency: 8, maxTokens: 160, streamShare: 0.5 };
  const { records } = await runLoad({ ...load, requests: 80, abortShare: 0.25, abortWithinMs: 200, malformed: MALFORMED_KINDS, body: { temperature: 0 } });
  const level = summarizeLevel(8, records, 1000);
  // One of each malformed kind, each answered with a 4xx: refused as intended, not an error.
  assert.deepEqual([level.malformed, level.rejectedAsIntended], [MALFORMED_KINDS, MALFORMED_KINDS]);
  assert.equal(new Set(records.map((r) => r.malformed).filter(Boolean)).size, MALFORMED_KINDS);
  assert.ok(records.filter((r) => r.malformed).every((r) => r.status >= 400 && r.status < 500));
  assert.deepEqual(
    records.filter((r) => r.error).map((r) => r.error),
    [],
  );
  // No 429: each well-formed request completes or is aborted.
  assert.equal(level.rateLimited, 0);
  assert.equal(level.completed + level.aborted, 80);
  // About a quarter of the clients hang up (a draw each); one whose response ends before its time completes instead.
  assert.ok(level.aborted >= 5 && level.aborted <= 30, `${level.aborted} aborted`);
  assert.ok(level.abortedBeforeFirstToken + level.abortedBeforeResponse > 0, JSON.stringify(level));
  // verispec reports each completed request's time in the queue.
  assert.ok(records.every((r) => r.aborted || r.malformed || r.queueMs !== undefined));
  assert.deepEqual(await waitForIdle(url), { status: "ok", slots_processing: 0, requests_deferred: 0 });
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
