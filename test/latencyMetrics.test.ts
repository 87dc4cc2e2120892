/**
 * The latency histograms at /metrics, scraped from the real server on loopback (n-gram models, so it runs in
 * a second): after a few requests, some waiting for the one slot, some streamed, one refused, each histogram
 * counts what it should, and its buckets are cumulative up to `+Inf`, which equals its count.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { NgramModel } from "../src/backends/ngram/ngramModel.js";
import { chatTemplateFrom } from "../src/server/chatTemplate.js";
import { VerispecServer } from "../src/server/httpServer.js";
import { ServingEngine } from "../src/server/servingEngine.js";

interface Parsed {
  buckets: { le: number; count: number }[];
  sum: number;
  count: number;
}

/** One histogram's samples from Prometheus text, its buckets in the order served. */
function histogram(text: string, name: string): Parsed {
  const buckets = [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)$`, "gm"))].map((m) => ({
    le: m[1] === "+Inf" ? Number.POSITIVE_INFINITY : Number(m[1]),
    count: Number(m[2]),
  }));
  const value = (suffix: string) => Number(new RegExp(`^${name}_${suffix} (\\S+)$`, "m").exec(text)?.[1]);
  return { buckets, sum: value("sum"), count: value("count") };
}

test("after 6 requests (5 served, 1 refused), each latency histogram counts the served ones, cumulatively", async () => {
  // eosBias -30: no request ends early, so each runs to max_tokens.
  const target = NgramModel.create({ seed: 5, eosBias: -30 });
  const engine = new ServingEngine({
    target,
    draft: target.blend(0.3, 8),
    modelId: "ngram",
    chatTemplate: chatTemplateFrom(undefined, target.vocabulary),
    parallel: 1,
    maxWaiting: 8,
    contextSize: 256,
    policy: "chain",
    policyOptions: { k: 4 },
  });
  const server = new VerispecServer(Promise.resolve(engine), { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  const post = (body: object) =>
    fetch(`${url}/v1/completions`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  // Five at once on one slot, so four of them wait; odd ones stream, with usage (their timings come in its chunk).
  const bodies = Array.from({ length: 5 }, (_, i) => ({
    model: "ngram",
    prompt: ["the cat", "a dog ran", "on the mat", "the dog", "a cat sat"][i],
    max_tokens: 40,
    temperature: 0,
    ...(i % 2 ? { stream: true, stream_options: { include_usage: true } } : {}),
  }));
  const scrape = async () => {
    const answers = await Promise.all(bodies.map(async (b) => timingsOf(await post(b))));
    // A model the server does not have: refused before it reaches the scheduler, so in no histogram.
    assert.equal((await post({ model: "other", prompt: "the", max_tokens: 4 })).status, 400);
    return { answers, text: await (await fetch(`${url}/metrics`)).text() };
  };
  const { answers, text } = await scrape().finally(() => server.close());

  const names = ["time_to_first_token", "inter_token_latency", "e2e_request_latency", "request_queue_time"];
  const h = Object.fromEntries(names.map((n) => [n, histogram(text, `verispec:${n}_seconds`)]));
  for (const n of names) {
    const { buckets, count } = h[n];
    assert.ok(buckets.length > 10, n);
    assert.equal(buckets.at(-1)?.le, Number.POSITIVE_INFINITY, n);
    for (let i = 1; i < buckets.length; i++) {
      assert.ok(buckets[i].le > buckets[i - 1].le, `${n}: bounds increase`);
      assert.ok(buckets[i].count >= buckets[i - 1].count, `${n}: counts are cumulative`);
    }
    assert.equal(buckets.at(-1)?.count, count, `${n}: +Inf is the count`);
  }
  // The refused request is counted as rejected, not as an error of the server's.
  assert.match(text, /^verispec:requests_finished_total\{finished_reason="rejected"\} 1$/m);
  assert.doesNotMatch(text, /finished_reason="error"/);
  // One first token, one end and one slot per served request.
  for (const n of ["time_to_first_token", "e2e_request_latency", "request_queue_time"]) assert.equal(h[n].count, 5, n);
  // One gap per step with tokens after each request's first: every step emits tokens (none ends early), and a
  // request's steps are its tokens over its tokens per step (timings' mean_accepted_per_block).
  const steps = answers.map((t) => Math.round(t.predicted_n / t.mean_accepted_per_block));
  assert.equal(
    h.inter_token_latency.count,
    steps.reduce((a, s) => a + s - 1, 0),
  );
  // The requests behind the first waited: the queue times the responses report add up to the histogram's sum.
  const queued = answers.reduce((a, t) => a + t.queue_ms, 0) / 1000;
  assert.ok(Math.abs(h.request_queue_time.sum - queued) < 1e-6, `${h.request_queue_time.sum} against ${queued}`);
  assert.ok(answers.filter((t) => t.queue_ms > 0).length >= 4, JSON.stringify(answers));
  // Every request ends after its first token and after its slot.
  assert.ok(h.e2e_request_latency.sum >= h.time_to_first_token.sum && h.time_to_first_token.sum >= h.request_queue_time.sum);
});

type Timings = { predicted_n: number; mean_accepted_per_block: number; queue_ms: number };

/** A response's timings, whole or from the usage chunk of its stream. */
async function timingsOf(res: Response): Promise<Timings> {
  assert.equal(res.status, 200);
  const text = await res.text();
  if (!text.startsWith("data: ")) return (JSON.parse(text) as { timings: Timings }).timings;
  const events = text.split("\n\n").filter((e) => e.startsWith("data: {"));
  const usage = events.map((e) => JSON.parse(e.slice(6)) as { timings?: Timings }).find((c) => c.timings);
  assert.ok(usage?.timings, "the stream has a usage chunk with timings");
  return usage.timings;
}
