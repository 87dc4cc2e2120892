/** Summaries of a serving benchmark per concurrency level, its figure and its report. */
import type { RequestRecord } from "./serveLoad.js";

export interface LevelSummary {
  concurrency: number;
  requests: number;
  errors: number;
  aborted: number;
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
  const head = ["concurrency", "requests", "errors", "aborted", "tokens/s", "x conc. 1", "TTFT p50", "TTFT p99", "ITL p50", "ITL p99"];
  const rows = levels.map((l) =>
    [
      l.concurrency,
      l.requests,
      l.errors,
      l.aborted,
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
<p>Times in ms. ITL: gaps between streamed chunks (a chunk carries one step's tokens).</p>
<figure>${svg}</figure></body></html>
`;
}
