/**
 * `verispec bench-serve`: bounded load on loopback. Starts `verispec serve` in this process (or uses --url),
 * sends N requests at each concurrency level (with hang-ups and malformed requests, for soaks), and writes
 * results.csv, summary.json, metrics.txt (the server's /metrics), summary.svg/png and report.html: aggregate
 * tokens/s, p50/p90/p99 of time to first token, chunk gaps, end-to-end and queue time, completed, aborted,
 * 429s, malformed requests refused, errors; then checks that every slot and queue place is free and
 * reports the process's memory before, during and after.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { stringify } from "csv-stringify/sync";
import { sourceCommit } from "../bench/benchOutput.js";
import { readPromptFile } from "../bench/promptFile.js";
import { runLoad } from "../bench/serveLoad.js";
import { serveReport, serveSpec } from "../bench/serveReport.js";
import { type LevelSummary, type NativeCalls, nativeCalls, serverSteps, summarizeLevel, withSpeedups } from "../bench/serveSummary.js";
import type { SchedulerStats } from "../decoding/scheduler.js";
import type { ModelCallStats } from "../model/session.js";
import { VerispecServer } from "../server/httpServer.js";
import { finiteNumber, nonNegativeInteger, positiveInteger } from "./optionParsers.js";
import { addPolicyOptions, type PolicyFlags } from "./policyFlags.js";
import { loadEngine } from "./serveCommand.js";
import { addPlacementOptions, type PlacementFlags } from "./targetPlacement.js";

interface BenchServeFlags extends PlacementFlags, PolicyFlags {
  url?: string;
  model?: string;
  target?: string;
  draft?: string;
  prompts: string;
  limit?: number;
  requests: number;
  concurrency: string;
  maxTokens: number;
  temperature: number;
  streamShare: number;
  abortShare: number;
  abortWithin?: number;
  malformed: number;
  parallel?: number;
  queue?: number;
  context?: number;
  threads?: number;
  suffixCorpus: number;
  out: string;
  figures: boolean;
}

/** Requests a slot that the warm-up runs before the memory is measured. */
const WARM_UP_REQUESTS_PER_SLOT = 16;

/** A `verispec serve` in this process, with `parallel` slots and `queue` places in its waiting line. */
async function startServer(f: BenchServeFlags, parallel: number, queue: number) {
  const engine = loadEngine({ ...f, parallel, queue, modelName: "bench" });
  const server = new VerispecServer(engine, { host: "127.0.0.1", port: 0 });
  const { url } = await server.listen();
  const e = await engine;
  const reading = (): Reading => ({ steps: { ...e.scheduler.stats }, ...e.modelCallStats() });
  return { url, model: "bench", reading, close: () => server.close() };
}

/** The in-process server's counters at one moment: its scheduler's, and its models' native calls. */
interface Reading {
  steps: SchedulerStats;
  target?: ModelCallStats;
  draft?: ModelCallStats;
}

/** Where the server's steps spent a level's time, from readings before and after it. */
function levelSteps(before: Reading, after: Reading): LevelSummary["steps"] {
  const s = serverSteps(before.steps, after.steps);
  const native = (a?: ModelCallStats, b?: ModelCallStats) => (a && b ? nativeCalls(a, b, s.steps) : undefined);
  return { ...s, target: native(before.target, after.target), draft: native(before.draft, after.draft) };
}

/** What /health says once the load is over: slots generating and requests waiting, and what is free of each where known. */
interface HealthAfter {
  /** Every slot and queue place free (within 5 s of the load's end). */
  slotsFreeAfter: boolean;
  processing: number | undefined;
  deferred: number | undefined;
  /** The in-process server's slots and queue places free (its sizes are known). */
  slotsFree?: number;
  queuePlacesFree?: number;
}

async function healthAfter(url: string, sizes: { parallel: number; queue: number } | undefined): Promise<HealthAfter> {
  let h: { slots_processing?: number; requests_deferred?: number } = {};
  for (let i = 0; i < 100; i++) {
    h = (await (await fetch(`${url}/health`)).json()) as typeof h;
    if (h.slots_processing === 0 && h.requests_deferred === 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const processing = h.slots_processing;
  const deferred = h.requests_deferred;
  const free = { slotsFreeAfter: processing === 0 && deferred === 0, processing, deferred };
  if (!sizes || processing === undefined || deferred === undefined) return free;
  return { ...free, slotsFree: sizes.parallel - processing, queuePlacesFree: sizes.queue - deferred };
}

/** The process's resident memory, MiB. */
const rssMiB = () => process.memoryUsage().rss / 2 ** 20;

/** A sample of the process's memory during a level: resident, and the JavaScript heap in use (MiB). */
interface MemorySample {
  level: number;
  done: number;
  rssMiB: number;
  heapUsedMiB: number;
}

/** What every level's load shares: where to send it, the prompts and the body's extra fields. */
interface Target {
  url: string;
  model: string;
  prompts: string[];
  body: Record<string, unknown>;
}

/** One concurrency level's load; RSS is sampled at every tenth of its requests. */
async function runLevel(f: BenchServeFlags, t: Target, concurrency: number, rss: MemorySample[]) {
  const o = { ...t, concurrency, requests: f.requests, maxTokens: f.maxTokens, streamShare: f.streamShare, abortShare: f.abortShare };
  const total = f.requests + f.malformed;
  let done = 0;
  const sample = () => {
    if (++done % Math.ceil(total / 10) !== 0 && done !== total) return;
    rss.push({ level: concurrency, done, rssMiB: rssMiB(), heapUsedMiB: process.memoryUsage().heapUsed / 2 ** 20 });
  };
  return runLoad({ ...o, abortWithinMs: f.abortWithin, malformed: f.malformed }, sample);
}

/** Every concurrency level in turn: the CSV rows of its requests, its summary, memory samples. */
async function runLevels(f: BenchServeFlags, t: Target, levels: number[], own: Awaited<ReturnType<typeof startServer>> | undefined) {
  const rows: object[] = [];
  const summaries: LevelSummary[] = [];
  const rss: MemorySample[] = [];
  for (const concurrency of levels) {
    const before = own?.reading();
    const { records, wallMs } = await runLevel(f, t, concurrency, rss);
    const s = summarizeLevel(concurrency, records, wallMs);
    if (before) s.steps = levelSteps(before, own!.reading());
    summaries.push(s);
    for (const r of records) rows.push({ ...r, gapsMs: r.gapsMs.map((g) => g.toFixed(2)).join(" ") });
    process.stderr.write(`concurrency ${concurrency}: ${levelLine(s)}${stepLine(s)}\n`);
  }
  return { rows, levels: withSpeedups(summaries), rss };
}

/** What ran: the command, when, at which commit, with which settings and load. */
function runSettings(f: BenchServeFlags, sizes: { parallel: number; queue: number } | undefined) {
  return {
    command: `verispec ${process.argv.slice(2).join(" ")}`,
    date: new Date().toISOString(),
    commit: sourceCommit(),
    policy: f.policy,
    k: f.k,
    temperature: f.temperature,
    maxTokens: f.maxTokens,
    ...sizes,
    streamShare: f.streamShare,
    abortShare: f.abortShare,
    abortWithinMs: f.abortWithin,
    malformed: f.malformed,
  };
}

async function runBenchServe(f: BenchServeFlags): Promise<void> {
  const levels = f.concurrency.split(",").map((c) => positiveInteger(c));
  const parallel = f.parallel ?? Math.max(...levels);
  const sizes = f.url ? undefined : { parallel, queue: f.queue ?? parallel };
  const prompts = readPromptFile(f.prompts)
    .slice(0, f.limit)
    .map((p) => p.trimEnd());
  const own = sizes && (await startServer(f, sizes.parallel, sizes.queue));
  const body = { temperature: f.temperature, seed: 1, verispec: { policy: f.policy, k: f.k } };
  const t: Target = { url: f.url ?? own!.url, model: f.model ?? own?.model ?? "bench", prompts, body };
  mkdirSync(f.out, { recursive: true });
  try {
    // Warm-up: the load's own shape (its prompts, its highest concurrency, its token budget) for a few requests a slot,
    // so the memory measured before is that of a server whose buffers and caches have reached their working size (with
    // only a short request a slot, the first hundred requests of a soak still grew it by a tenth, then it stayed flat).
    const warm = Math.min(f.requests, WARM_UP_REQUESTS_PER_SLOT * parallel);
    await runLoad({ ...t, requests: warm, concurrency: Math.max(...levels), maxTokens: f.maxTokens });
    const rssBeforeMiB = rssMiB();
    const run = await runLevels(f, t, levels, own);
    const health = await healthAfter(t.url, sizes);
    // loadAverage: this machine's load over the last 1, 5 and 15 minutes at the end (other work on its cores slows every level).
    const memory = { rssBeforeMiB, rssAfterMiB: rssMiB(), rssSamples: run.rss, loadAverage: os.loadavg() };
    const summary = { ...runSettings(f, sizes), ...health, ...memory, levels: run.levels };
    writeFileSync(path.join(f.out, "results.csv"), stringify(run.rows, { header: true }));
    writeFileSync(path.join(f.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    await saveMetrics(t.url, f.out);
    if (f.figures) await writeFigures(f.out, run.levels, summary.command, summary);
    process.stderr.write(`${afterLine(summary)}; wrote ${f.out}\n`);
  } finally {
    await own?.close();
  }
}

/** The server's /metrics after the load, where it has them (verispec's latency histograms among them), as metrics.txt. */
async function saveMetrics(url: string, dir: string): Promise<void> {
  const res = await fetch(`${url}/metrics`).catch(() => undefined);
  if (res?.ok) writeFileSync(path.join(dir, "metrics.txt"), await res.text());
}

/** A level's outcome in a line. */
function levelLine(s: LevelSummary): string {
  const p = (name: string, a: number, b: number, c: number) => `${name} p50/p90/p99 ${a.toFixed(0)}/${b.toFixed(0)}/${c.toFixed(0)} ms`;
  const counts = `completed ${s.completed}, aborted ${s.aborted} (${s.abortedBeforeFirstToken} before the first token), 429 ${s.rateLimited}, malformed refused ${s.rejectedAsIntended}/${s.malformed}, errors ${s.errors}${s.retried ? `, retried ${s.retried}` : ""}`;
  return `${s.tokensPerSecond.toFixed(1)} tokens/s, ${p("TTFT", s.ttftP50Ms, s.ttftP90Ms, s.ttftP99Ms)}, ${p("E2E", s.e2eP50Ms, s.e2eP90Ms, s.e2eP99Ms)}; ${counts}`;
}

/** The server's state and the process's memory after the load, in a line. */
function afterLine(s: HealthAfter & { rssBeforeMiB: number; rssAfterMiB: number }): string {
  const free = s.slotsFree === undefined ? "" : ` (${s.slotsFree} slots and ${s.queuePlacesFree} queue places free)`;
  return `slots free afterwards: ${s.slotsFreeAfter}${free}; RSS ${s.rssBeforeMiB.toFixed(0)} -> ${s.rssAfterMiB.toFixed(0)} MiB`;
}

/** Where a step's time went at this level, when the server ran in this process. */
function stepLine(s: LevelSummary): string {
  const t = s.steps;
  if (!t) return "";
  const f = (x: number) => x.toFixed(2);
  const native = (name: string, n?: NativeCalls) =>
    n ? `; ${name}: ${f(n.calls)} calls, ${n.tokens.toFixed(1)} tokens, decode ${f(n.decodeMs)}, rows ${f(n.rowsMs)}, hand-offs ${f(n.handoffMs)}` : "";
  return `; a step ${f(t.stepMs)} ms (plan ${f(t.planMs)}, pass ${f(t.passMs)} over ${t.passTokens.toFixed(1)} tokens, settle ${f(t.settleMs)}, admit ${f(t.admitMs)}), ${t.requests.toFixed(2)} requests; ${t.joinSteps} steps carried a new prompt, their pass ${f(t.joinPassMs)} ms, the others ${f(t.otherPassMs)}${native("target", t.target)}${native("drafter", t.draft)}`;
}

/** What was served, from the command that ran: another server, the target alone, or a policy. */
function figureTitle(command: string, s: { policy: string; k: number }): string {
  const url = /--url (\S+)/.exec(command)?.[1];
  if (url) return `the server at ${url}`;
  if (/--draft none/.test(command)) return "verispec serve: the target alone";
  return `verispec serve: policy ${s.policy} k=${s.k}`;
}

async function writeFigures(
  dir: string,
  levels: LevelSummary[],
  command: string,
  s: HealthAfter & { policy: string; k: number; rssBeforeMiB: number; rssAfterMiB: number },
) {
  const { renderSvg, svgToPng } = await import("../bench/benchFigures.js");
  const svg = await renderSvg(serveSpec(levels, figureTitle(command, s)));
  writeFileSync(path.join(dir, "summary.svg"), svg);
  writeFileSync(path.join(dir, "summary.png"), svgToPng(svg));
  const notes = [`${afterLine(s)} (the process's resident memory after the warm-up, and after the load).`];
  writeFileSync(path.join(dir, "report.html"), serveReport({ title: "verispec serving benchmark", command, notes }, levels, svg));
}

/** `verispec bench-serve-report <dir>`: the figure and report of a run made with --no-figures (a GPU machine). */
async function runBenchServeReport(dir: string): Promise<void> {
  const s = JSON.parse(readFileSync(path.join(dir, "summary.json"), "utf8"));
  await writeFigures(dir, s.levels, s.command, s);
  process.stderr.write(`wrote ${path.join(dir, "summary.svg")}, summary.png and report.html\n`);
}

export function registerBenchServe(program: Command): void {
  program.command("bench-serve-report <dir>").description("draw the figure and report of a bench-serve run made with --no-figures").action(runBenchServeReport);
  const command = program
    .command("bench-serve")
    .description("bounded load on loopback: N requests at each concurrency; aggregate tokens/s, time to first token, inter-token gaps, errors")
    .option("--url <url>", "an already running server (default: start one in this process)")
    .option("--model <id>", "model id to ask the --url server for")
    .option("--target <model>", "target GGUF model for the in-process server (default: the embedded target)")
    .option("--draft <model>", "draft GGUF model, a drafter without one (suffix, prompt-lookup, ngram) or none (default: the embedded drafter)")
    .requiredOption("--prompts <file>", "prompts (JSONL with prompt or turns, or plain lines)")
    .option("--limit <n>", "use the first n prompts", positiveInteger)
    .option("--requests <n>", "requests per concurrency level", positiveInteger, 32)
    .option("--concurrency <list>", "concurrency levels", "1,2,4,8")
    .option("--max-tokens <n>", "tokens per request", positiveInteger, 64)
    .option("--temperature <t>", "0 for greedy", finiteNumber, 0)
    .option("--stream-share <x>", "share of requests that stream", finiteNumber, 1)
    .option(
      "--abort-share <x>",
      "share of streamed requests whose client hangs up after the first chunk (with --abort-within: of all requests)",
      finiteNumber,
      0,
    )
    .option("--abort-within <ms>", "clients picked by --abort-share hang up at a random time within this many ms of sending (some while queued)", finiteNumber)
    .option("--malformed <n>", "also send n malformed requests, interleaved (each should get a 4xx)", nonNegativeInteger, 0)
    .option("--parallel <n>", "slots of the in-process server (default: the highest concurrency)", positiveInteger)
    .option("--queue <n>", "requests that may wait for a slot of the in-process server; more get 429 (default: --parallel)", nonNegativeInteger)
    .option("--context <n>", "context of each slot", positiveInteger)
    .option("--threads <n>", "CPU threads", positiveInteger)
    .option("--suffix-corpus <tokens>", "the in-process server keeps this many tokens of earlier requests for suffix drafting (0: off)", nonNegativeInteger, 0)
    .option("--no-figures", "write results.csv and summary.json only")
    .requiredOption("--out <dir>", "output folder");
  addPlacementOptions(addPolicyOptions(command, "adaptive")).action(runBenchServe);
}
