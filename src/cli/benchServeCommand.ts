/**
 * `verispec bench-serve`: bounded load on loopback. Starts `verispec serve` in this process (or uses --url),
 * sends N requests at each concurrency level, and writes results.csv, summary.json, summary.svg/png and
 * report.html: aggregate tokens/s, time to first token and inter-token gaps (p50, p99), errors; then checks
 * that every slot is free and reports the process's memory before and after.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { stringify } from "csv-stringify/sync";
import { sourceCommit } from "../bench/benchOutput.js";
import { readPromptFile } from "../bench/promptFile.js";
import { runLoad } from "../bench/serveLoad.js";
import { type LevelSummary, type NativeCalls, nativeCalls, serveReport, serverSteps, serveSpec, summarizeLevel, withSpeedups } from "../bench/serveSummary.js";
import type { SchedulerStats } from "../decoding/scheduler.js";
import type { ModelCallStats } from "../model/languageModel.js";
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
  context?: number;
  threads?: number;
  suffixCorpus: number;
  out: string;
  figures: boolean;
}

/** A `verispec serve` in this process, with as many slots as the highest concurrency. */
async function startServer(f: BenchServeFlags, parallel: number) {
  const engine = loadEngine({ ...f, parallel, queue: parallel, modelName: "bench" });
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

async function slotsFree(url: string): Promise<boolean> {
  const h = (await (await fetch(`${url}/health`)).json()) as { slots_processing?: number; requests_deferred?: number };
  return h.slots_processing === 0 && h.requests_deferred === 0;
}

async function runBenchServe(f: BenchServeFlags): Promise<void> {
  const levels = f.concurrency.split(",").map((c) => positiveInteger(c));
  const prompts = readPromptFile(f.prompts)
    .slice(0, f.limit)
    .map((p) => p.trimEnd());
  const own = f.url ? undefined : await startServer(f, Math.max(...levels));
  const url = f.url ?? own!.url;
  const model = f.model ?? own?.model ?? "bench";
  mkdirSync(f.out, { recursive: true });
  const body = { temperature: f.temperature, seed: 1, verispec: { policy: f.policy, k: f.k } };
  const rows: object[] = [];
  const summaries: LevelSummary[] = [];
  try {
    await runLoad({ url, model, prompts, requests: Math.min(2, f.requests), concurrency: 1, maxTokens: 8, body }); // warm-up
    const rssBefore = process.memoryUsage().rss;
    for (const concurrency of levels) {
      const before = own?.reading();
      const { records, wallMs } = await runLoad({
        url,
        model,
        prompts,
        requests: f.requests,
        concurrency,
        maxTokens: f.maxTokens,
        streamShare: f.streamShare,
        abortShare: f.abortShare,
        body,
      });
      const s = summarizeLevel(concurrency, records, wallMs);
      if (before) s.steps = levelSteps(before, own!.reading());
      summaries.push(s);
      for (const r of records) rows.push({ ...r, gapsMs: r.gapsMs.map((g) => g.toFixed(2)).join(" ") });
      process.stderr.write(
        `concurrency ${concurrency}: ${s.tokensPerSecond.toFixed(1)} tokens/s, TTFT p50 ${s.ttftP50Ms.toFixed(0)} ms, errors ${s.errors}, aborted ${s.aborted}${s.retried ? `, retried ${s.retried}` : ""}${stepLine(s)}\n`,
      );
    }
    const free = await waitFree(url);
    const rssAfter = process.memoryUsage().rss;
    const all = withSpeedups(summaries);
    const command = `verispec ${process.argv.slice(2).join(" ")}`;
    const summary = {
      command,
      date: new Date().toISOString(),
      commit: sourceCommit(),
      policy: f.policy,
      k: f.k,
      temperature: f.temperature,
      maxTokens: f.maxTokens,
      slotsFreeAfter: free,
      rssBeforeMiB: rssBefore / 2 ** 20,
      rssAfterMiB: rssAfter / 2 ** 20,
      levels: all,
    };
    writeFileSync(path.join(f.out, "results.csv"), stringify(rows, { header: true }));
    writeFileSync(path.join(f.out, "summary.json"), `${JSON.stringify(summary, null, 2)}\n`);
    if (f.figures) await writeFigures(f.out, all, command, summary);
    process.stderr.write(`slots free afterwards: ${free}; RSS ${summary.rssBeforeMiB.toFixed(0)} -> ${summary.rssAfterMiB.toFixed(0)} MiB; wrote ${f.out}\n`);
  } finally {
    await own?.close();
  }
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

async function waitFree(url: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await slotsFree(url)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
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
  s: { policy: string; k: number; rssBeforeMiB: number; rssAfterMiB: number; slotsFreeAfter: boolean },
) {
  const { renderSvg, svgToPng } = await import("../bench/benchFigures.js");
  const svg = await renderSvg(serveSpec(levels, figureTitle(command, s)));
  writeFileSync(path.join(dir, "summary.svg"), svg);
  writeFileSync(path.join(dir, "summary.png"), svgToPng(svg));
  const notes = [`Slots free afterwards: ${s.slotsFreeAfter}. Process RSS ${s.rssBeforeMiB.toFixed(0)} MiB before, ${s.rssAfterMiB.toFixed(0)} MiB after.`];
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
    .option("--abort-share <x>", "share of streamed requests whose client hangs up after the first chunk", finiteNumber, 0)
    .option("--context <n>", "context of each slot", positiveInteger)
    .option("--threads <n>", "CPU threads", positiveInteger)
    .option("--suffix-corpus <tokens>", "the in-process server keeps this many tokens of earlier requests for suffix drafting (0: off)", nonNegativeInteger, 0)
    .option("--no-figures", "write results.csv and summary.json only")
    .requiredOption("--out <dir>", "output folder");
  addPlacementOptions(addPolicyOptions(command, "adaptive")).action(runBenchServe);
}
