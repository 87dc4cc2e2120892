/**
 * Bounded load on an OpenAI-compatible server: N requests, at most `concurrency` in flight, each timed from
 * the client's side (time to first token and the gaps between streamed chunks). A share of the clients may
 * stream, and a share may hang up, after the first chunk or at a random time (they count as aborted, not as
 * errors); malformed requests may be interleaved (a 4xx is what they are for). A 429 is counted apart, not as
 * an error. A request whose kept-alive connection the server had just closed (it fails at once, before any
 * response: the server never read it) is sent once more, and marked as retried.
 */
import { Random } from "../util/random.js";
import { isMalformedAt, malformedRequest } from "./malformedRequests.js";

export interface LoadOptions {
  url: string;
  model: string;
  prompts: readonly string[];
  /** Well-formed requests (malformed ones come on top). */
  requests: number;
  concurrency: number;
  maxTokens: number;
  /** Share of requests that stream (the rest ask for the whole response); 1 by default. */
  streamShare?: number;
  /**
   * Share of clients that hang up; 0 by default. Without `abortWithinMs`: streamed ones, after their first chunk.
   * With it: any, each with this chance, drawn by its index.
   */
  abortShare?: number;
  /**
   * Clients that hang up do so at a random time within this many ms of sending (drawn by the request's index):
   * before their first token (waiting for a slot, or in prefill), mid-stream, or before a whole response. One
   * whose response ends first simply completes.
   */
  abortWithinMs?: number;
  /** Malformed requests (malformedRequests.ts) interleaved evenly with the others; each should get a 4xx. */
  malformed?: number;
  /** Extra body fields (temperature, the verispec extension, ...). */
  body?: Record<string, unknown>;
  apiKey?: string;
}

/** Where a client hung up: before its first streamed token, mid-stream, or before its whole (non-streamed) response. */
export type AbortPoint = "before-first-token" | "mid-stream" | "before-response";

export interface RequestRecord {
  index: number;
  concurrency: number;
  streamed: boolean;
  aborted: boolean;
  abortPoint: AbortPoint | undefined;
  /** The malformed request sent in its place (its name), if it was one. */
  malformed: string | undefined;
  /** The HTTP status answered; 0 without a response. */
  status: number;
  /** Answered 429 (a full queue): not counted as an error. */
  rateLimited: boolean;
  /** What went wrong that should not have: any failure of a well-formed request but a 429, a malformed one not answered 4xx. */
  error: string | undefined;
  completionTokens: number;
  ttftMs: number;
  /** Gaps between streamed chunks, ms (each chunk is one step's text: one or more tokens). */
  gapsMs: number[];
  totalMs: number;
  /** Time the request waited for a slot, as the server reports it (verispec's timings.queue_ms). */
  queueMs: number | undefined;
  /** Sent again after the server closed the kept-alive connection it first went on. */
  retried: boolean;
}

/** Whether request i of a run gets a property with this share (spread evenly, repeatable). */
function picked(i: number, share: number): boolean {
  return Math.floor((i + 1) * share) > Math.floor(i * share);
}

async function* sseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let cut = buffer.indexOf("\n\n"); cut >= 0; cut = buffer.indexOf("\n\n")) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      if (event.startsWith("data: ")) yield event.slice(6);
    }
  }
}

/** How well-formed request j goes: streamed or not, and when its client hangs up (if it does). */
interface Plan {
  streamed: boolean;
  hangUpAfterFirst: boolean;
  hangUpAtMs: number | undefined;
}

/** Seeds the draws of hang-up times; any constant makes runs repeatable. */
const ABORT_SEED = 0x50a6;

function planOf(o: LoadOptions, j: number): Plan {
  const streamed = picked(j, o.streamShare ?? 1);
  const share = o.abortShare ?? 0;
  if (o.abortWithinMs === undefined) return { streamed, hangUpAfterFirst: streamed && picked(j, share), hangUpAtMs: undefined };
  const rng = new Random(ABORT_SEED + j);
  const hangs = rng.next() < share;
  return { streamed, hangUpAfterFirst: false, hangUpAtMs: hangs ? rng.next() * o.abortWithinMs : undefined };
}

/** A request's record before it is sent. */
export function emptyRecord(index: number, concurrency: number, streamed: boolean): RequestRecord {
  return {
    index,
    concurrency,
    streamed,
    aborted: false,
    abortPoint: undefined,
    malformed: undefined,
    status: 0,
    rateLimited: false,
    error: undefined,
    completionTokens: 0,
    ttftMs: 0,
    gapsMs: [],
    totalMs: 0,
    queueMs: undefined,
    retried: false,
  };
}

/** POSTs a body, once more if the server had closed the kept-alive connection before reading it. */
async function post(o: LoadOptions, route: string, body: string, signal: AbortSignal, record: RequestRecord): Promise<Response> {
  const headers = { "content-type": "application/json", ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) };
  const send = () => fetch(`${o.url}${route}`, { method: "POST", headers, body, signal });
  const res = await send().catch((error) => {
    if (!closedBeforeResponse(error)) throw error;
    record.retried = true;
    return send();
  });
  record.status = res.status;
  return res;
}

/** Hangs up at the planned time, noting where the request then was. */
function hangUpTimer(plan: Plan, record: RequestRecord, abort: AbortController): ReturnType<typeof setTimeout> | undefined {
  if (plan.hangUpAtMs === undefined) return undefined;
  return setTimeout(() => {
    record.aborted = true;
    record.abortPoint = !plan.streamed ? "before-response" : record.ttftMs === 0 ? "before-first-token" : "mid-stream";
    abort.abort();
  }, plan.hangUpAtMs);
}

async function oneRequest(o: LoadOptions, index: number, j: number): Promise<RequestRecord> {
  const plan = planOf(o, j);
  const record = emptyRecord(index, o.concurrency, plan.streamed);
  const abort = new AbortController();
  const start = performance.now();
  const timer = hangUpTimer(plan, record, abort);
  try {
    const body = {
      model: o.model,
      prompt: o.prompts[j % o.prompts.length],
      max_tokens: o.maxTokens,
      stream: plan.streamed,
      ...(plan.streamed ? { stream_options: { include_usage: true } } : {}),
      ...o.body,
    };
    const res = await post(o, "/v1/completions", JSON.stringify(body), abort.signal, record);
    if (res.status === 429) record.rateLimited = true;
    else if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    else if (!plan.streamed) {
      const json = (await res.json()) as { usage: { completion_tokens: number }; timings?: { queue_ms?: number } };
      record.completionTokens = json.usage.completion_tokens;
      record.queueMs = json.timings?.queue_ms;
      record.ttftMs = performance.now() - start;
    } else await readStream(res.body, record, start, plan.hangUpAfterFirst ? abort : undefined);
  } catch (error) {
    if (!record.aborted) record.error = describe(error);
  }
  clearTimeout(timer);
  record.totalMs = performance.now() - start;
  return record;
}

/** Sends the j-th malformed request: a 4xx is what was meant; anything else is an error. */
async function oneMalformed(o: LoadOptions, index: number, j: number): Promise<RequestRecord> {
  const bad = malformedRequest(j, o.model, o.prompts[j % o.prompts.length]);
  const record = { ...emptyRecord(index, o.concurrency, false), malformed: bad.name };
  const start = performance.now();
  try {
    const res = await post(o, bad.route, bad.body, new AbortController().signal, record);
    const text = await res.text();
    if (res.status < 400 || res.status >= 500) record.error = `malformed (${bad.name}) answered HTTP ${res.status}: ${text.slice(0, 200)}`;
  } catch (error) {
    record.error = `malformed (${bad.name}): ${describe(error)}`;
  }
  record.totalMs = performance.now() - start;
  return record;
}

/** Whether fetch failed because the server closed the connection before any response (a kept-alive one it dropped). */
function closedBeforeResponse(error: unknown): boolean {
  const code = error instanceof Error ? (error.cause as { code?: string } | undefined)?.code : undefined;
  return code === "UND_ERR_SOCKET" || code === "ECONNRESET";
}

/** An error's message, with its cause's (fetch's own message, "fetch failed", says nothing of why). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause as { code?: string; message?: string } | undefined;
  return cause ? `${error.message} (${[cause.code, cause.message].filter(Boolean).join(": ")})` : error.message;
}

async function readStream(body: ReadableStream<Uint8Array>, record: RequestRecord, start: number, hangUp: AbortController | undefined): Promise<void> {
  let last = 0;
  let textChunks = 0;
  for await (const data of sseData(body)) {
    if (data === "[DONE]") break;
    const chunk = JSON.parse(data) as {
      choices: { text?: string }[];
      usage?: { completion_tokens: number };
      timings?: { predicted_n?: number; queue_ms?: number };
      error?: { message: string };
    };
    if (chunk.error) throw new Error(chunk.error.message);
    if (chunk.timings?.queue_ms !== undefined) record.queueMs = chunk.timings.queue_ms;
    if (chunk.usage) record.completionTokens = chunk.usage.completion_tokens;
    else if (chunk.timings?.predicted_n) record.completionTokens = chunk.timings.predicted_n;
    if (!chunk.choices[0]?.text) continue;
    textChunks++;
    const now = performance.now() - start;
    if (last === 0) record.ttftMs = now;
    else record.gapsMs.push(now - last);
    last = now;
    if (hangUp) {
      record.aborted = true;
      record.abortPoint = "mid-stream";
      hangUp.abort();
      return;
    }
  }
  // A server that reports no usage when streaming: one token per chunk.
  if (record.completionTokens === 0) record.completionTokens = textChunks;
}

/** Runs the requests (malformed ones interleaved) with at most `concurrency` in flight; returns their records and the wall time. */
export async function runLoad(o: LoadOptions, onDone?: () => void): Promise<{ records: RequestRecord[]; wallMs: number }> {
  const records: RequestRecord[] = [];
  const malformed = o.malformed ?? 0;
  const total = o.requests + malformed;
  let next = 0;
  let wellFormed = 0;
  let badOnes = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < total) {
      const i = next++;
      records[i] = isMalformedAt(i, malformed, total) ? await oneMalformed(o, i, badOnes++) : await oneRequest(o, i, wellFormed++);
      onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, total) }, worker));
  return { records, wallMs: performance.now() - start };
}
