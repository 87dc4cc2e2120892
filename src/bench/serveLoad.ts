/**
 * Bounded load on an OpenAI-compatible server: N requests, at most `concurrency` in flight, each timed from
 * the client's side (time to first token and the gaps between streamed chunks). A share of the clients may
 * stream, and a share may hang up mid-stream (they count as aborted, not as errors). A request whose kept-alive
 * connection the server had just closed (it fails at once, before any response: the server never read it) is
 * sent once more, and marked as retried.
 */

export interface LoadOptions {
  url: string;
  model: string;
  prompts: readonly string[];
  requests: number;
  concurrency: number;
  maxTokens: number;
  /** Share of requests that stream (the rest ask for the whole response); 1 by default. */
  streamShare?: number;
  /** Share of streamed requests whose client disconnects after its first chunk; 0 by default. */
  abortShare?: number;
  /** Extra body fields (temperature, the verispec extension, ...). */
  body?: Record<string, unknown>;
  apiKey?: string;
}

export interface RequestRecord {
  index: number;
  concurrency: number;
  streamed: boolean;
  aborted: boolean;
  error: string | undefined;
  completionTokens: number;
  ttftMs: number;
  /** Gaps between streamed chunks, ms (each chunk is one step's text: one or more tokens). */
  gapsMs: number[];
  totalMs: number;
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

async function oneRequest(o: LoadOptions, index: number): Promise<RequestRecord> {
  const streamed = picked(index, o.streamShare ?? 1);
  const abortAfterFirst = streamed && picked(index, o.abortShare ?? 0);
  const record: RequestRecord = {
    index,
    concurrency: o.concurrency,
    streamed,
    aborted: false,
    error: undefined,
    completionTokens: 0,
    ttftMs: 0,
    gapsMs: [],
    totalMs: 0,
    retried: false,
  };
  const abort = new AbortController();
  const start = performance.now();
  try {
    const body = {
      model: o.model,
      prompt: o.prompts[index % o.prompts.length],
      max_tokens: o.maxTokens,
      stream: streamed,
      ...(streamed ? { stream_options: { include_usage: true } } : {}),
      ...o.body,
    };
    const headers = { "content-type": "application/json", ...(o.apiKey ? { authorization: `Bearer ${o.apiKey}` } : {}) };
    const send = () => fetch(`${o.url}/v1/completions`, { method: "POST", headers, body: JSON.stringify(body), signal: abort.signal });
    const res = await send().catch((error) => {
      if (!closedBeforeResponse(error)) throw error;
      record.retried = true;
      return send();
    });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
    if (!streamed) {
      const json = (await res.json()) as { usage: { completion_tokens: number } };
      record.completionTokens = json.usage.completion_tokens;
      record.ttftMs = performance.now() - start;
    } else await readStream(res.body, record, start, abortAfterFirst ? abort : undefined);
  } catch (error) {
    if (!record.aborted) record.error = describe(error);
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
      timings?: { predicted_n?: number };
      error?: { message: string };
    };
    if (chunk.error) throw new Error(chunk.error.message);
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
      hangUp.abort();
      return;
    }
  }
  // A server that reports no usage when streaming: one token per chunk.
  if (record.completionTokens === 0) record.completionTokens = textChunks;
}

/** Runs the requests with at most `concurrency` in flight; returns their records and the wall time. */
export async function runLoad(o: LoadOptions, onDone?: () => void): Promise<{ records: RequestRecord[]; wallMs: number }> {
  const records: RequestRecord[] = [];
  let next = 0;
  const start = performance.now();
  const worker = async () => {
    while (next < o.requests) {
      const i = next++;
      records[i] = await oneRequest(o, i);
      onDone?.();
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency, o.requests) }, worker));
  return { records, wallMs: performance.now() - start };
}
