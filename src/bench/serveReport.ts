/** A serving benchmark's figure (Vega-Lite) and single-file report, from its level summaries. */
import { escapeHtml } from "./benchReport.js";
import type { LevelSummary } from "./serveSummary.js";

/** Vega-Lite: aggregate tokens/s per concurrency, and time to first token (p50, p90 where measured, p99). */
export function serveSpec(levels: readonly LevelSummary[], title: string): object {
  const ttft = levels.flatMap((l) =>
    (
      [
        ["p50", l.ttftP50Ms],
        ["p90", l.ttftP90Ms],
        ["p99", l.ttftP99Ms],
      ] as const
    )
      .filter(([, ms]) => ms !== undefined)
      .map(([stat, ms]) => ({ concurrency: String(l.concurrency), stat, ms })),
  );
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

/** A table cell: a number to `digits` places, "-" where a summary of an older run has no such field. */
function cell(v: number | undefined, digits = 0): string {
  return `<td>${v === undefined ? "-" : v.toFixed(digits)}</td>`;
}

/** Three percentiles of a level's latency, as table cells. */
function triple(l: LevelSummary, name: "ttft" | "itl" | "e2e" | "queue", digits: number): string {
  const get = (p: number) => (l as unknown as Record<string, number | undefined>)[`${name}P${p}Ms`];
  return [50, 90, 99].map((p) => cell(get(p), digits)).join("");
}

const LEVEL_HEAD = [
  "concurrency",
  "requests",
  "completed",
  "errors",
  "aborted",
  "of them before the first token / mid-stream / before a whole response",
  "429",
  "malformed: 4xx / sent",
  "retried",
  "tokens/s",
  "x conc. 1",
  ...["TTFT", "ITL", "E2E", "queue"].flatMap((m) => [`${m} p50`, `${m} p90`, `${m} p99`]),
];

function levelRow(l: LevelSummary): string {
  const aborts = l.abortedMidStream === undefined ? "-" : `${l.abortedBeforeFirstToken} / ${l.abortedMidStream} / ${l.abortedBeforeResponse}`;
  const counts = [l.concurrency, l.requests, l.completed ?? "-", l.errors, l.aborted, aborts, l.rateLimited ?? "-"];
  const rest = [l.malformed === undefined ? "-" : `${l.rejectedAsIntended} / ${l.malformed}`, l.retried ?? 0];
  return [
    ...[...counts, ...rest].map((v) => `<td>${v}</td>`),
    cell(l.tokensPerSecond, 1),
    cell(l.speedupOverConcurrency1, 2),
    triple(l, "ttft", 0),
    triple(l, "itl", 1),
    triple(l, "e2e", 0),
    triple(l, "queue", 0),
  ].join("");
}

/** A single-file report: what ran, the table, the figure. */
export function serveReport(meta: { title: string; command: string; notes: string[] }, levels: readonly LevelSummary[], svg: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(meta.title)}</title>
<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}</style></head>
<body><h1>${escapeHtml(meta.title)}</h1><p><code>${escapeHtml(meta.command)}</code></p>${meta.notes.map((n) => `<p>${escapeHtml(n)}</p>`).join("")}
<table id="levels"><tr>${LEVEL_HEAD.map((h) => `<th>${h}</th>`).join("")}</tr>${levels.map((l) => `<tr>${levelRow(l)}</tr>`).join("")}</table>
<p>Times in ms, of completed requests. TTFT: to the first streamed token, or to a whole response. ITL: gaps between streamed chunks (a chunk carries one step's tokens). E2E: sending to the last byte. Queue: waiting for a slot, as the server reports it (verispec only). Errors: failures that were not meant (a 429 and a malformed request's 4xx are counted apart). Retried: requests sent again after the server closed their kept-alive connection before answering.</p>
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
