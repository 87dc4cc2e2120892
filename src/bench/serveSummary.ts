/** Summaries of a serving benchmark per concurrency level (its figure and report: serveReport.ts). */
import type { SchedulerStats } from "../decoding/scheduler.js";
import { addCallStats, type ModelCallStats } from "../model/session.js";
import type { RequestRecord } from "./serveLoad.js";

/** A level's steps as the server's scheduler counted them (a server in the bench's own process); means per step. */
export interface LevelSteps {
  steps: number;
  /** Requests in a step's pass, and the pass's tokens. */
  requests: number;
  passTokens: number;
  /** Wall time of a step: planning (drafting), the target pass, settling, and admissions spread over the steps. */
  stepMs: number;
  planMs: number;
  passMs: number;
  settleMs: number;
  admitMs: number;
  /** Steps whose pass carried a new request's prompt, their mean pass time, and the other passes' mean. */
  joinSteps: number;
  joinPassMs: number;
  otherPassMs: number;
  /** The models' native calls per step (backends that report them): the target's, and the shared drafter's. */
  target?: NativeCalls;
  draft?: NativeCalls;
}

/** A model's native calls per step: how many, inside the forward pass, row work, and hand-offs between threads. */
export interface NativeCalls {
  calls: number;
  tokens: number;
  decodeMs: number;
  rowsMs: number;
  handoffMs: number;
}

/** A model's calls between two readings of its stats, per step. */
export function nativeCalls(before: ModelCallStats, after: ModelCallStats, steps: number): NativeCalls {
  const d = addCallStats(after, before, -1);
  const per = (x: number) => (steps > 0 ? x / steps : 0);
  return { calls: per(d.calls), tokens: per(d.tokens), decodeMs: per(d.decodeMs), rowsMs: per(d.rowsMs), handoffMs: per(d.queueMs + d.returnMs) };
}

/** The difference of the scheduler's counters over a level, as means per step. */
export function serverSteps(before: SchedulerStats, after: SchedulerStats): LevelSteps {
  const d = (k: keyof SchedulerStats) => after[k] - before[k];
  const steps = d("steps");
  const per = (k: keyof SchedulerStats) => (steps > 0 ? d(k) / steps : 0);
  const joins = d("joinSteps");
  const others = steps - joins;
  return {
    steps,
    requests: per("requestSteps"),
    passTokens: per("passTokens"),
    stepMs: per("planMs") + per("passMs") + per("settleMs") + per("admitMs"),
    planMs: per("planMs"),
    passMs: per("passMs"),
    settleMs: per("settleMs"),
    admitMs: per("admitMs"),
    joinSteps: joins,
    joinPassMs: joins > 0 ? d("joinPassMs") / joins : 0,
    otherPassMs: others > 0 ? (d("passMs") - d("joinPassMs")) / others : 0,
  };
}

export interface LevelSummary {
  concurrency: number;
  /** Well-formed requests sent (malformed ones apart). */
  requests: number;
  /** Well-formed requests answered in full. */
  completed: number;
  /** Unintended failures: a well-formed request's, but a 429; a malformed request not answered with a 4xx. */
  errors: number;
  aborted: number;
  /** Aborted before their first streamed token (waiting for a slot, or in prefill), mid-stream, before a whole response. */
  abortedBeforeFirstToken: number;
  abortedMidStream: number;
  abortedBeforeResponse: number;
  /** Well-formed requests answered 429 (a full queue). */
  rateLimited: number;
  /** Malformed requests sent, and those answered with a 4xx as intended. */
  malformed: number;
  rejectedAsIntended: number;
  /** Requests sent again after the server closed their kept-alive connection (serveLoad.ts). */
  retried: number;
  completionTokens: number;
  wallSeconds: number;
  /** All requests' completion tokens over the level's wall time. */
  tokensPerSecond: number;
  /** Throughput relative to concurrency 1 in the same run (when it was measured). */
  speedupOverConcurrency1?: number;
  /** Time to the first token (streamed) or the whole response, of completed requests. */
  ttftP50Ms: number;
  ttftP90Ms: number;
  ttftP99Ms: number;
  /** Gaps between streamed chunks (a chunk is one step's text, one or more tokens). */
  itlP50Ms: number;
  itlP90Ms: number;
  itlP99Ms: number;
  /** Whole time of completed requests, from sending to the last byte. */
  e2eP50Ms: number;
  e2eP90Ms: number;
  e2eP99Ms: number;
  /** Time completed requests waited for a slot, where the server reports it (verispec's timings.queue_ms). */
  queueP50Ms?: number;
  queueP90Ms?: number;
  queueP99Ms?: number;
  /** Where the server's steps spent their time, when it ran in the bench's process. */
  steps?: LevelSteps;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The 50th, 90th and 99th percentiles of `values` as fields `${name}P50Ms`, ... */
function percentiles<N extends string>(name: N, values: readonly number[]): Record<`${N}P${50 | 90 | 99}Ms`, number> {
  return Object.fromEntries([50, 90, 99].map((p) => [`${name}P${p}Ms`, percentile(values, p)])) as Record<`${N}P${50 | 90 | 99}Ms`, number>;
}

/** How many records `keep` holds for. */
const count = (records: readonly RequestRecord[], keep: (r: RequestRecord) => boolean) => records.filter(keep).length;

export function summarizeLevel(concurrency: number, records: readonly RequestRecord[], wallMs: number): LevelSummary {
  const wellFormed = records.filter((r) => !r.malformed);
  const done = wellFormed.filter((r) => !r.error && !r.aborted && !r.rateLimited);
  const queued = done.flatMap((r) => (r.queueMs === undefined ? [] : [r.queueMs]));
  const tokens = records.reduce((n, r) => n + r.completionTokens, 0);
  return {
    concurrency,
    requests: wellFormed.length,
    completed: done.length,
    errors: count(records, (r) => r.error !== undefined),
    aborted: count(records, (r) => r.aborted),
    abortedBeforeFirstToken: count(records, (r) => r.abortPoint === "before-first-token"),
    abortedMidStream: count(records, (r) => r.abortPoint === "mid-stream"),
    abortedBeforeResponse: count(records, (r) => r.abortPoint === "before-response"),
    rateLimited: count(wellFormed, (r) => r.rateLimited),
    malformed: records.length - wellFormed.length,
    rejectedAsIntended: count(records, (r) => r.malformed !== undefined && !r.error),
    retried: count(records, (r) => r.retried),
    completionTokens: tokens,
    wallSeconds: wallMs / 1000,
    tokensPerSecond: tokens / (wallMs / 1000),
    ...percentiles(
      "ttft",
      done.map((r) => r.ttftMs),
    ),
    ...percentiles(
      "itl",
      done.flatMap((r) => r.gapsMs),
    ),
    ...percentiles(
      "e2e",
      done.map((r) => r.totalMs),
    ),
    ...(queued.length > 0 ? percentiles("queue", queued) : {}),
  };
}

/** Adds each level's throughput relative to concurrency 1. */
export function withSpeedups(levels: LevelSummary[]): LevelSummary[] {
  const one = levels.find((l) => l.concurrency === 1);
  return levels.map((l) => (one ? { ...l, speedupOverConcurrency1: l.tokensPerSecond / one.tokensPerSecond } : l));
}
