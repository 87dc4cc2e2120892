/** `verispec bench`: runs the benchmark matrix and writes CSV, JSON, figures and an HTML report. */
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { type Command, Option } from "commander";
import { LlamaCppModel } from "../backends/llamaCpp/llamaCppModel.js";
import { openLlamaCppModel } from "../backends/llamaCpp/openModel.js";
import { physicalCoreCount } from "../backends/llamaCpp/threads.js";
import type { ProcessModel } from "../backends/llamaCpp/worker/processModel.js";
import { CsvRowWriter, readBenchCsv } from "../bench/benchCsv.js";
import { machineDetails, OUTPUT_FILES, sourceCommit, writeOutputs } from "../bench/benchOutput.js";
import { createProgress } from "../bench/benchProgress.js";
import { runBench } from "../bench/benchRunner.js";
import type { BenchRow, BenchSummary, BenchVariant, ModelDetails } from "../bench/benchTypes.js";
import { LLAMACPP_SPEC, LLAMACPP_TARGET_ONLY, PEER_DRAFT, PEER_LOOKUP } from "../bench/benchTypes.js";
import { BENCH_POLICY_NAMES, benchVariants, splitList, usesEagleHead, WITH_EAGLE, WITH_HEAD } from "../bench/benchVariants.js";
import { type DelayProxyHandle, startDelayProxy } from "../bench/delayProxy.js";
import { type LlamaCppPeer, LlamaCppTools, type LlamaCppToolsOptions } from "../bench/peers/llamaCppTools.js";
import { LlamaServerPeers } from "../bench/peers/llamaServerPeers.js";
import { readPromptFile } from "../bench/promptFile.js";
import { isEagleHead } from "../gguf/embedHead.js";
import { DEFAULT_CONTEXT_SIZE, type LanguageModel } from "../model/session.js";
import { checkCompatibleVocabularies } from "../model/vocabularyCompatibility.js";
import { loadHead } from "../policies/head/headModel.js";
import { embeddedModelPaths } from "../util/embeddedModels.js";
import { packageRoot } from "../util/packageRoot.js";
import { openHead } from "./modelPair.js";
import { integer, nonNegativeNumber, positiveInteger, positiveNumber } from "./optionParsers.js";
import { policyOptionsFrom } from "./policyFlags.js";
import { addPlacementOptions, drafterLoadOptions, type PlacementFlags, targetLoadOptions } from "./targetPlacement.js";

interface BenchFlags extends PlacementFlags {
  target?: string;
  draft?: string;
  prompts: string;
  limit?: number;
  trimPrompts?: boolean;
  policies: string;
  k: string;
  temperatures: string;
  repeats: number;
  maxTokens: number;
  threads?: number;
  seed: number;
  repetitionPenalty: number;
  out: string;
  head?: string;
  eagle?: string;
  addedLatency?: number;
  llamaTools?: string;
  llamaPeer: "server" | "program";
  figures: boolean;
}

/** llama.cpp's programs of the build in use (VERISPEC_LLAMA_BUILD), else of the CPU build. */
function defaultToolsDir(): string {
  return path.join(packageRoot(), "native", ".llama-build", process.env.VERISPEC_LLAMA_BUILD ?? "cpu", "bin");
}

function details(m: LlamaCppModel | ProcessModel, file: string): ModelDetails {
  return { file, bytes: statSync(file).size, parameters: m.info.parameters, vocabSize: m.vocabulary.size, description: m.info.description };
}

/** With --added-latency, a delay proxy in front of each RPC server (also at 0 ms, so every latency pays the same hop). */
async function delayProxies(f: BenchFlags): Promise<DelayProxyHandle[]> {
  if (f.addedLatency === undefined) return [];
  if (!f.targetRpc) throw new RangeError("--added-latency needs --target-rpc");
  return Promise.all(f.targetRpc.map((e) => startDelayProxy(e, f.addedLatency!)));
}

/**
 * The EAGLE-3 head's file where a variant drafts with it (+eagle, llamacpp-spec[draft-eagle3]): --eagle, else the
 * shipped head for the embedded target; a target of one's own needs --eagle.
 */
function eagleFile(f: BenchFlags, variants: readonly BenchVariant[]): string | undefined {
  if (!variants.some(usesEagleHead)) return undefined;
  if (!f.eagle && f.target)
    throw new RangeError(`variants with ${WITH_EAGLE} or llamacpp-spec[draft-eagle3] need --eagle <head.gguf> with a --target of your own`);
  const file = f.eagle ?? embeddedModelPaths().head;
  if (!existsSync(file)) throw new RangeError(`--eagle: no such file ${file}`);
  if (!isEagleHead(file)) throw new RangeError(`--eagle: ${file} is not an EAGLE-3 head (a GGUF of architecture eagle3)`);
  return file;
}

/** The EAGLE-3 head beside the target, where a variant drafts with it (its file also goes to llama.cpp's draft-eagle3). */
async function openEagle(file: string | undefined, target: LanguageModel, threads: number) {
  if (!file) return undefined;
  try {
    return await openHead(file, target, { threads });
  } catch (e) {
    target.dispose();
    throw e;
  }
}

/** llama.cpp's programs or servers, where a llamacpp-* variant runs, on the same files, threads and context. */
function llamaPeer(f: BenchFlags, variants: readonly BenchVariant[], o: Omit<LlamaCppToolsOptions, "binDir" | "gpuLayers">): LlamaCppPeer | undefined {
  if (!variants.some((v) => v.basePolicy === LLAMACPP_TARGET_ONLY || v.basePolicy === LLAMACPP_SPEC)) return undefined;
  const options = { ...o, binDir: f.llamaTools ?? defaultToolsDir(), gpuLayers: f.device === "cpu" ? 0 : 99 };
  return f.llamaPeer === "program" ? new LlamaCppTools(options) : new LlamaServerPeers(options);
}

/** The models of a bench run: target, drafter (if any), the EAGLE-3 head (if a variant needs it) and node-llama-cpp's peers (if one needs them). */
async function openBenchModels(f: BenchFlags, variants: readonly BenchVariant[], headFile: string | undefined) {
  const embedded = embeddedModelPaths();
  const targetFile = f.target ?? embedded.target;
  const draftFile = f.draft ?? (f.target ? undefined : embedded.draft);
  const threads = f.threads ?? physicalCoreCount();
  const proxies = await delayProxies(f);
  // One generation at a time: passes run on this thread, without hand-offs to a worker (as `generate` runs them).
  const placement = targetLoadOptions({ ...f, targetRpc: proxies.length > 0 ? proxies.map((p) => p.endpoint) : f.targetRpc }, threads, "caller");
  const target = await openLlamaCppModel(targetFile, placement);
  const eagle = await openEagle(headFile, target, threads);
  const draft = draftFile ? await LlamaCppModel.load(draftFile, drafterLoadOptions(f, threads, "caller")) : undefined;
  if (draft) checkCompatibleVocabularies(target.vocabulary, draft.vocabulary);
  const needsPeers = variants.some((v) => v.policy === PEER_DRAFT || v.policy === PEER_LOOKUP);
  if (needsPeers && f.targetRpc)
    throw new RangeError(`node-llama-cpp's peers (${PEER_DRAFT}, ${PEER_LOOKUP}) cannot use RPC servers; leave them out with --target-rpc`);
  // Every side's context: the model's training context, at most DEFAULT_CONTEXT_SIZE (a 128k model's would be gigabytes).
  const contextSize = Math.min(target.trainContextSize, DEFAULT_CONTEXT_SIZE);
  // node-llama-cpp loads only when its peers run (a GPU machine may carry verispec without it).
  const peers = needsPeers
    ? await (await import("../bench/peers/nodeLlamaCppPeers.js")).NodeLlamaCppPeers.open(targetFile, draftFile, threads, contextSize)
    : undefined;
  const tools = llamaPeer(f, variants, { target: targetFile, draft: draftFile, head: headFile, threads, contextSize });
  const models = {
    target: details(target, targetFile),
    draft: draft && draftFile ? details(draft, draftFile) : null,
    ...(eagle && headFile ? { head: details(eagle, headFile) } : {}),
  };
  const dispose = async () => {
    await tools?.close();
    await peers?.dispose();
    draft?.dispose();
    eagle?.dispose();
    target.dispose();
    for (const p of proxies) p.stop();
  };
  const placementSettings = f.targetRpc ? { rpcServers: f.targetRpc, tensorSplit: f.tensorSplit, addedLatencyMs: f.addedLatency ?? 0 } : undefined;
  return { target, draft, eagle, peers, tools, threads, models, placement: placementSettings, dispose };
}

async function runBenchCommand(f: BenchFlags): Promise<void> {
  const prompts = readPromptFile(f.prompts)
    .slice(0, f.limit)
    .map((p) => (f.trimPrompts ? p.trimEnd() : p));
  const variants = benchVariants(splitList(f.policies), splitList(f.k).map(Number), splitList(f.temperatures).map(Number));
  const head = f.head ? loadHead(f.head) : undefined;
  if (!head && variants.some((v) => v.head)) throw new RangeError(`policies ending in ${WITH_HEAD} need --head`);
  const headFile = eagleFile(f, variants);
  mkdirSync(f.out, { recursive: true });
  const m = await openBenchModels(f, variants, headFile);
  const abort = new AbortController();
  const rows = await runWithProgress(f, prompts.length * variants.length, abort, (onRow) =>
    runBench({
      ...m,
      prompts,
      variants,
      repeats: f.repeats,
      maxTokens: f.maxTokens,
      seed: f.seed,
      repetitionPenalty: f.repetitionPenalty,
      policyOptions: policyOptionsFrom({ k: 0 }),
      head,
      signal: abort.signal,
      onRow,
    }),
  );
  if (rows.length === 0) throw new Error("interrupted before any generation finished; nothing to summarise");
  const meta = runMeta(f, m, prompts.length);
  const summary = await writeOutputs(f.out, rows, { ...meta, complete: !abort.signal.aborted }, f.figures);
  await m.dispose();
  const written = f.figures ? Object.values(OUTPUT_FILES) : [OUTPUT_FILES.csv, OUTPUT_FILES.json];
  process.stderr.write(`${summary.complete ? "" : "interrupted: "}wrote ${written.join(", ")} to ${f.out}\n`);
}

/** Runs the bench with each row appended to the CSV as it comes and a progress bar; SIGINT stops it between generations. */
async function runWithProgress(
  f: BenchFlags,
  generations: number,
  abort: AbortController,
  run: (onRow: (row: BenchRow) => void) => Promise<BenchRow[]>,
): Promise<BenchRow[]> {
  const csv = new CsvRowWriter(path.join(f.out, OUTPUT_FILES.csv));
  const progress = createProgress(generations * f.repeats);
  const onSigint = () => abort.abort();
  process.once("SIGINT", onSigint);
  try {
    return await run((row) => {
      csv.append(row);
      progress.tick(`${row.variant}, prompt ${row.prompt}, repeat ${row.repeat}: ${row.tokensPerSecond.toFixed(1)} tokens/s`);
    });
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
  }
}

/** What a run records of itself: when, the command, the commit, the machine, the models and the settings. */
function runMeta(f: BenchFlags, m: Awaited<ReturnType<typeof openBenchModels>>, promptCount: number) {
  const settings = {
    prompts: f.prompts,
    promptCount,
    repeats: f.repeats,
    maxTokens: f.maxTokens,
    threads: m.threads,
    seed: f.seed,
    ...(m.placement ? { placement: m.placement } : {}),
    ...(f.batchInvariant ? { batchInvariant: true } : {}),
    repetitionPenalty: f.repetitionPenalty,
    llamaBuild: process.env.VERISPEC_LLAMA_BUILD ? `native/.llama-build/${process.env.VERISPEC_LLAMA_BUILD}` : "node-llama-cpp prebuilt",
  };
  const command = `verispec ${process.argv.slice(2).join(" ")}`;
  return { createdAt: new Date().toISOString(), command, commit: sourceCommit(), machine: machineDetails(), models: m.models, settings };
}

/** `verispec bench-report <dir>`: the summary, figure and report again from a run's results.csv and summary.json. */
async function runBenchReport(dir: string): Promise<void> {
  const previous = JSON.parse(readFileSync(path.join(dir, OUTPUT_FILES.json), "utf8")) as BenchSummary;
  const { variants: _, best: __, ...meta } = previous;
  await writeOutputs(dir, readBenchCsv(path.join(dir, OUTPUT_FILES.csv)), meta);
  process.stderr.write(`wrote ${Object.values(OUTPUT_FILES).join(", ")} to ${dir}\n`);
}

export function registerBench(program: Command): void {
  program
    .command("bench-report <dir>")
    .description("write a bench run's summary.json, figures and report.html again from its results.csv (after a run with --no-figures)")
    .action(runBenchReport);
  const command = program
    .command("bench")
    .description("run every variant on every prompt, repeated; write results.csv, summary.json, summary.svg/png and report.html")
    .option("--target <model>", "target GGUF model (default: the embedded target)")
    .option("--draft <model>", "draft GGUF model (default: the embedded drafter; none with a --target of your own: prompt lookup)")
    .requiredOption("--prompts <file>", "prompt file: JSONL with a prompt field (HumanEval) or turns (MT-Bench), or plain text lines")
    .option("--limit <n>", "use the first n prompts", positiveInteger)
    .option("--trim-prompts", "remove trailing whitespace from prompts")
    .option("--policies <list>", `comma-separated: ${BENCH_POLICY_NAMES.join(", ")}`, "target-only,chain,heuristic,cascade,tree,adaptive")
    .option("--k <list>", "comma-separated draft lengths", "4")
    .option("--temperatures <list>", "comma-separated temperatures (0 = greedy)", "0")
    .option("--repeats <n>", "repeats of the whole matrix", positiveInteger, 3)
    .option("--max-tokens <n>", "tokens per generation", positiveInteger, 64)
    .option("--threads <n>", "CPU threads (default: physical cores)", positiveInteger)
    .option("--seed <s>", "base seed (row seed = base + 1000 * repeat + prompt)", integer, 0)
    .option("--repetition-penalty <x>", "penalise the last 64 tokens in every variant, llama.cpp's too (1 = off)", positiveNumber, 1)
    .option("--out <dir>", "output folder", "bench-results")
    .option("--head <file>", `acceptance head for the policies named with ${WITH_HEAD} (cascade${WITH_HEAD}, adaptive${WITH_HEAD})`)
    .option(
      "--eagle <gguf>",
      `EAGLE-3 head for the policies named with ${WITH_EAGLE} and llamacpp-spec[draft-eagle3] (default: the shipped head, for the embedded target)`,
    );
  addPlacementOptions(command)
    .option(
      "--llama-tools <dir>",
      "folder of llama.cpp's llama-server (or llama-completion and llama-speculative-simple), for the llamacpp-* variants (default: the build in use)",
    )
    .addOption(
      new Option("--llama-peer <how>", "run llama.cpp's variants through one llama-server per configuration, or as a program per generation")
        .choices(["server", "program"])
        .default("server"),
    )
    .option("--no-figures", "write results.csv and summary.json only (verispec bench-report draws the figures and report later)")
    .option("--added-latency <ms>", "with --target-rpc: add this round-trip delay to every server link, through a delay proxy", nonNegativeNumber)
    .action(runBenchCommand);
}
