/**
 * One completions or chat request, from a parsed job to the response: whole JSON, or server-sent events
 * (a chunk per step with new text, a chunk with the finish reason, the usage chunk when asked for, then
 * `data: [DONE]`). A client that disconnects aborts its generation, which leaves the scheduler at its next
 * step; a request that runs past the timeout ends with a timeout error, one the server's shutdown cuts with a
 * shutdown error (in a stream: an error event, then `data: [DONE]`).
 */
import type { ServerResponse } from "node:http";
import type { StepEvent } from "../generation/generationTypes.js";
import { ApiError, asApiError, shuttingDown } from "./apiErrors.js";
import type { GenerationJob } from "./requestParsing.js";
import { RequestTiming } from "./requestTiming.js";
import { apiFinish, chunkBody, completionBody, responseFrame, timingsOf, usageChunkBody, usageOf } from "./responses.js";
import type { ServerMetrics } from "./serverMetrics.js";
import type { ServingEngine } from "./servingEngine.js";

export interface HandlerContext {
  engine: ServingEngine;
  metrics: ServerMetrics;
  /** Longest a generation may run, in ms; none when undefined. */
  timeoutMs: number | undefined;
  /** Aborts when the server shuts down past its grace period: the generation ends with a shutdown error. */
  shutdown: AbortSignal;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** An error as its response, where none has started (else the response just ends). */
export function sendError(res: ServerResponse, e: ApiError): void {
  if (!res.headersSent) sendJson(res, e.status, e.body, e.headers);
  else res.end();
}

/** Aborts when the client goes away, the timeout passes or the server shuts down; says which. */
function requestSignal(res: ServerResponse, timeoutMs: number | undefined, shutdown: AbortSignal) {
  const abort = new AbortController();
  const state = { timedOut: false, gone: false, shutDown: false };
  const end = (why: "timedOut" | "gone" | "shutDown") => {
    state[why] = true;
    abort.abort();
  };
  res.on("close", () => {
    if (!res.writableFinished) end("gone");
  });
  const onShutdown = () => end("shutDown");
  shutdown.addEventListener("abort", onShutdown, { once: true });
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => end("timedOut"), timeoutMs);
  const done = () => {
    clearTimeout(timer);
    shutdown.removeEventListener("abort", onShutdown);
  };
  return { signal: abort.signal, state, done };
}

function timeoutError(ms: number | undefined): ApiError {
  return new ApiError(408, `the generation ran past the request timeout of ${(ms ?? 0) / 1000} s`, "timeout_error", null, "timeout");
}

export async function handleGeneration(ctx: HandlerContext, job: GenerationJob, res: ServerResponse): Promise<void> {
  const { signal, state, done } = requestSignal(res, ctx.timeoutMs, ctx.shutdown);
  const timing = new RequestTiming(ctx.metrics);
  try {
    const run = ctx.engine.start(job, signal, () => timing.admitted());
    ctx.metrics.recordPrompt(run.promptTokens);
    const write = job.stream ? openStream(res) : undefined;
    const reply: Reply = { frame: responseFrame(job), write, includeUsage: job.includeUsage, sent: false, text: "", steps: [] };
    try {
      await relaySteps(ctx, run.events, reply, timing);
    } catch (error) {
      if (!reply.write) throw error;
      reply.write(asApiError(error).body);
      return finishStream(res, ctx, "error");
    }
    if (state.gone) return ctx.metrics.recordEnd("aborted");
    const last = reply.steps.at(-1)?.finish;
    if (state.shutDown || state.timedOut || last === "aborted") {
      const [error, how] = state.shutDown ? [shuttingDown(true), "shutdown"] : [timeoutError(ctx.timeoutMs), "timeout"];
      if (!reply.write) throw error;
      reply.write(error.body);
      return finishStream(res, ctx, how);
    }
    sendFinished(ctx, res, reply, { promptTokens: run.promptTokens, last, timing });
  } catch (error) {
    const e = asApiError(error);
    // A request refused for what it asked (4xx: bad input, a full queue) is rejected; the server's own failures
    // and timeouts (408, 5xx) are errors.
    ctx.metrics.recordEnd(e.status < 500 && e.status !== 408 ? "rejected" : "error");
    sendError(res, e);
  } finally {
    done();
  }
}

/** A response in the making: its frame, the stream's writer (none for whole JSON), and what was generated so far. */
interface Reply {
  frame: ReturnType<typeof responseFrame>;
  write: ((body: unknown) => void) | undefined;
  /** The stream ends with a usage chunk. */
  includeUsage: boolean;
  /** Whether a text chunk went out (the first carries the role). */
  sent: boolean;
  text: string;
  steps: StepEvent[];
}

/** Takes the generation's steps, counting them and streaming each one's text where the client asked for a stream. */
async function relaySteps(ctx: HandlerContext, events: AsyncIterable<StepEvent>, reply: Reply, timing: RequestTiming): Promise<void> {
  for await (const step of events) {
    reply.steps.push(step);
    ctx.metrics.recordStep(step);
    timing.emitted(step.tokens.length);
    reply.text += step.text;
    if (!reply.write || !step.text) continue;
    reply.write(chunkBody(reply.frame, step.text, null, !reply.sent));
    reply.sent = true;
  }
}

/** The end of a generation that ran its course: the whole JSON, or the stream's last chunks. */
function sendFinished(
  ctx: HandlerContext,
  res: ServerResponse,
  reply: Reply,
  o: { promptTokens: number; last: StepEvent["finish"]; timing: RequestTiming },
): void {
  const finish = apiFinish(o.last ?? "max-tokens");
  const usage = usageOf(o.promptTokens, reply.steps);
  const timings = timingsOf(o.promptTokens, reply.steps, o.timing.elapsedMs(), o.timing.queueMs ?? 0);
  ctx.metrics.recordEnd(finish);
  o.timing.finished();
  const { write, frame } = reply;
  if (!write) {
    sendJson(res, 200, completionBody(frame, reply.text, finish, usage, timings));
    return;
  }
  if (!reply.sent) write(chunkBody(frame, "", null, true));
  write(chunkBody(frame, "", finish));
  if (reply.includeUsage) write(usageChunkBody(frame, usage, timings));
  finishStream(res, ctx);
}

/** Starts an SSE response; returns the writer of `data:` events. */
function openStream(res: ServerResponse): (body: unknown) => void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
  res.flushHeaders();
  return (body) => {
    if (!res.writableEnded && !res.destroyed) res.write(`data: ${JSON.stringify(body)}\n\n`);
  };
}

function finishStream(res: ServerResponse, ctx: HandlerContext, how?: string): void {
  if (how) ctx.metrics.recordEnd(how);
  if (!res.writableEnded && !res.destroyed) res.end("data: [DONE]\n\n");
}
