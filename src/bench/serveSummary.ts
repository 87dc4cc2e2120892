/** Summaries of a serving benchmark per concurrency level, its figure and its report. */

import type { SchedulerStats } from "../decoding/scheduler.js";
import { addCallStats, type ModelCallStats } from "../model/languageModel.js";
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
  requests: number;
  errors: number;
  aborted: number;
  /** Requests sent again after the server closed their kept-alive connection (serveLoad.ts). */
  retried: number;
  completionTokens: number;
  wallSeconds: number;
  /** All requests' completion tokens over the level's wall time. */
  tokensPerSecond: number;
  /** Throughput relative to concurrency 1 in the same run (when it was measured). */
  speedupOverConcurrency1?: number;
  ttftP50Ms: number;
  ttftP99Ms: number;
  /** Gaps between streamed chunks (a chunk is one step's text, one or more tokens). */
  itlP50Ms: number;
  itlP99Ms: number;
  /** Where the server's steps spent their time, when it ran in the bench's process. */
  steps?: LevelSteps;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function summarizeLevel(concurrency: number, records: readonly RequestRecord[], wallMs: number): LevelSummary {
  const done = records.filter((r) => !r.error && !r.aborted);
  const ttft = done.map((r) => r.ttftMs);
  const gaps = done.flatMap((r) => r.gapsMs);
  const tokens = records.reduce((n, r) => n + r.completionTokens, 0);
  return {
    concurrency,
    requests: records.length,
    errors: records.filter((r) => r.error).length,
    aborted: records.filter((r) => r.aborted).length,
    retried: records.filter((r) => r.retried).length,
    completionTokens: tokens,
    wallSeconds: wallMs / 1000,
    tokensPerSecond: tokens / (wallMs / 1000),
    ttftP50Ms: percentile(ttft, 50),
    ttftP99Ms: percentile(ttft, 99),
    itlP50Ms: percentile(gaps, 50),
    itlP99Ms: percentile(gaps, 99),
  };
}

/** Adds each level's throughput relative to concurrency 1. */
export function withSpeedups(levels: LevelSummary[]): LevelSummary[] {
  const one = levels.find((l) => l.concurrency === 1);
  return levels.map((l) => (one ? { ...l, speedupOverConcurrency1: l.tokensPerSecond / one.tokensPerSecond } : l));
}

/** Vega-Lite: aggregate tokens/s per concurrency, and time to first token (p50, p99). */
export function serveSpec(levels: readonly LevelSummary[], title: string): object {
  const ttft = levels.flatMap((l) => [
    { concurrency: String(l.concurrency), stat: "p50", ms: l.ttftP50Ms },
    { concurrency: String(l.concurrency), stat: "p99", ms: l.ttftP99Ms },
  ]);
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    hconcat: [
      {
        title: "aggregate tokens/s",
        data: { values: levels.map((l) => ({ concurrency: String(l.concurrency), tps: l.tokensPerSecond })) },
        mark: "bar",
        encoding: { x: { field: "concurrency", type: "ordinal" }, y: { field: "tps", type: "quantitative", title: "tokens/s" } },
        width: 260,
        height: 220,
      },
      {
        title: "time to first token (ms)",
        data: { values: ttft },
        mark: "bar",
        encoding: {
          x: { field: "concurrency", type: "ordinal" },
          xOffset: { field: "stat" },
          y: { field: "ms", type: "quantitative", title: "ms" },
          color: { field: "stat" },
        },
        width: 260,
        height: 220,
      },
    ],
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
}

/** A single-file report: what ran, the table, the figure. */
export function serveReport(meta: { title: string; command: string; notes: string[] }, levels: readonly LevelSummary[], svg: string): string {
  const head = ["concurrency", "requests", "errors", "aborted", "retried", "tokens/s", "x conc. 1", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99"];
  const rows = levels.map((l) =>
    [
      l.concurrency,
      l.requests,
      l.errors,
      l.aborted,
      l.retried ?? 0,
      l.tokensPerSecond.toFixed(1),
      l.speedupOverConcurrency1?.toFixed(2) ?? "-",
      l.ttftP50Ms.toFixed(0),
      l.ttftP99Ms.toFixed(0),
      l.itlP50Ms.toFixed(1),
      l.itlP99Ms.toFixed(1),
    ]
      .map((v) => `<td>${v}</td>`)
      .join(""),
  );
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(meta.title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head>
<body><h1>${escapeHtml(meta.title)}</h1><p><code>${escapeHtml(meta.command)}</code></p>${meta.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join("")}
<table id="levels"><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r}</tr>`).join("")}</table>
<p>Times in ms. ITL: gaps between streamed chunks (a chunk carries one step's tokens). Retried: requests sent again after the server closed their kept-alive connection before answering.</p>
${stepsTable(levels)}<figure>${svg}</figure></body></html>
`;
}

/** The server's steps per level (means per step, ms), when it ran in the bench's process. */
function stepsTable(levels: readonly LevelSummary[]): string {
  const measured = levels.filter((l) => l.steps);
  if (measured.length === 0) return "";
  const head = [
    "concurrency",
    "steps",
    "requests",
    "pass tokens",
    "step",
    "plan",
    "pass",
    "settle",
    "admit",
    "steps with a new prompt",
    "their pass",
    "other passes",
  ];
  const rows = measured.map(({ concurrency, steps: t }) =>
    [
      concurrency,
      t!.steps,
      t!.requests.toFixed(2),
      t!.passTokens.toFixed(1),
      t!.stepMs,
      t!.planMs,
      t!.passMs,
      t!.settleMs,
      t!.admitMs,
      t!.joinSteps,
      t!.joinPassMs,
      t!.otherPassMs,
    ]
      .map((v) => `<td>${typeof v === "number" && !Number.isInteger(v) ? v.toFixed(2) : v}</td>`)
      .join(""),
  );
  return `<h2>Where a step's time went (the server's scheduler, ms per step)</h2>
<table id="steps"><tr>${head.map((h) => `<th>${h}</th>`).join("")}</tr>${rows.map((r) => `<tr>${r}</tr>`).join("")}</table>
`;
}
