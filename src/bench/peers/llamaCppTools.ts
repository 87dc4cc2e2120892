/**
 * llama.cpp's own programs as benchmark peers, built from the same source (`npm run build:llama -- --tools`):
 * llama-completion (the target alone) and llama-speculative-simple (every speculative type of its toolbox, single or
 * chained: the n-gram family with no extra weights, draft-simple with the draft model, draft-eagle3 with the EAGLE-3
 * head as its draft model). Each generation is one process, sampled as verispec samples (temperature alone: top-k,
 * top-p and min-p off; the same repetition penalty over the last 64 tokens), with the same threads.
 *
 * A generation's time leaves out what a process pays once, as verispec's figures do (its models and contexts are
 * loaded and warm): it is llama-completion's prompt prefill, sampling and decoding for the target alone, and
 * llama-speculative-simple's decoding plus the same prompt's prefill as llama-completion measures it for the
 * speculative types (llama-speculative-simple's own "encoded" time also counts setting up its drafters:
 * ngram-mod's 16 MiB table costs about 40 ms a process on a 2-core CPU, which a server pays once). Tokens are
 * what the programs report, at most the asked-for count: llama-speculative-simple goes past the budget (177
 * tokens decoded for 128 asked, on a HumanEval prompt with ngram-map-k), so its decoding time is counted pro rata,
 * the asked-for share of what it decoded, at its own rate.
 *
 * Where a program's output lacks the statistics (seen once in several thousand runs on the 2-core CPU, not
 * reproduced), the generation is run once more; a second failure stops the run, its output kept in a file.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { stockEnvironment } from "../../backends/llamaCpp/batchInvariance.js";
import { LLAMACPP_EAGLE, type SpecConfig } from "../benchTypes.js";

const execFileAsync = promisify(execFile);
/** Peers run llama.cpp's stock kernels even where this process computes batch-invariantly. */
const run = (file: string, args: string[]) => execFileAsync(file, args, { maxBuffer: 1 << 26, env: stockEnvironment() });

export interface ToolRun {
  tokens: number;
  seconds: number;
  /** llama-speculative-simple's draft statistics (0 for the target alone). */
  drafted: number;
  accepted: number;
}

export interface LlamaCppToolsOptions {
  /** The folder holding llama-completion and llama-speculative-simple. */
  binDir: string;
  target: string;
  draft?: string;
  /** The EAGLE-3 head, the draft model of draft-eagle3 (bench --eagle). */
  head?: string;
  /** Layers on the GPU for both models (99: all). */
  gpuLayers: number;
  threads: number;
  /** Context of each generation, in tokens: the target's training context, at most 4096 (as verispec sizes its own). */
  contextSize: number;
}

/** What a generation asks for, as verispec's variants get it. */
export interface ToolGeneration {
  prompt: string;
  maxTokens: number;
  temperature: number;
  seed: number;
  repetitionPenalty: number;
}

/** Each speculative type's draft-length option (the variant's k). */
const LENGTH_OPTION: Record<string, string> = {
  "draft-simple": "draft-n-max",
  [LLAMACPP_EAGLE]: "draft-n-max",
  "ngram-mod": "ngram-mod-n-max",
  "ngram-simple": "ngram-simple-size-m",
  "ngram-map-k": "ngram-map-k-size-m",
  "ngram-map-k4v": "ngram-map-k4v-size-m",
};

const TOOLS = ["llama-completion", "llama-speculative-simple"];

/** The options that set each of the configuration's types to draft length k (none for k = 0: their defaults). */
export function lengthOptions(spec: SpecConfig, k: number): string[] {
  return k > 0 ? spec.types.flatMap((t) => (LENGTH_OPTION[t] ? [`--spec-${LENGTH_OPTION[t]}`, String(k)] : [])) : [];
}

/**
 * The draft model a configuration's type that drafts with weights needs (-md, on the same layers and threads):
 * the draft model for draft-simple, the EAGLE-3 head for draft-eagle3 (the parser allows one of them); none without.
 */
export function draftModelOptions(o: LlamaCppToolsOptions, spec: SpecConfig): string[] {
  const type = spec.types.find((t) => t.startsWith("draft-"));
  if (!type) return [];
  const file = type === LLAMACPP_EAGLE ? o.head : o.draft;
  if (!file) throw new Error(`llamacpp-spec[${spec.types.join(",")}] needs ${type === LLAMACPP_EAGLE ? "an EAGLE-3 head (--eagle)" : "a draft model"}`);
  return ["-md", file, "-ngld", String(o.gpuLayers), "--spec-draft-threads", String(o.threads)];
}

/** llama.cpp's peers, run as programs (LlamaCppTools) or through llama-server (LlamaServerPeers). */
export interface LlamaCppPeer {
  targetOnly(g: ToolGeneration): Promise<ToolRun>;
  speculative(g: ToolGeneration, spec: SpecConfig, k: number): Promise<ToolRun>;
  close(): Promise<void>;
}

/** A program's output that lacks a statistic the benchmark reads. */
class MissingStatistic extends Error {
  constructor(
    what: string,
    readonly output: string,
  ) {
    super(`llama.cpp printed no ${what}`);
  }
}

function number(output: string, pattern: RegExp, what: string): number {
  const m = output.match(pattern);
  if (!m) throw new MissingStatistic(what, output);
  return Number(m[1]);
}

/** Runs a program's generation, once more if its output lacks a statistic; a second such output is kept in a file. */
async function retriedOnce<T>(generate: () => Promise<T>): Promise<T> {
  try {
    return await generate();
  } catch (e) {
    if (!(e instanceof MissingStatistic)) throw e;
  }
  try {
    return await generate();
  } catch (e) {
    if (!(e instanceof MissingStatistic)) throw e;
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), "verispec-llama-")), "output.txt");
    writeFileSync(file, e.output);
    throw new Error(`${e.message} twice (its output: ${file})`);
  }
}

export class LlamaCppTools implements LlamaCppPeer {
  /** The prompt prefill's seconds by prompt, as llama-completion measures it. */
  private readonly prefills = new Map<string, number>();

  constructor(private readonly o: LlamaCppToolsOptions) {
    for (const tool of TOOLS)
      if (!existsSync(path.join(o.binDir, tool))) throw new Error(`${tool} is not in ${o.binDir}; build it with \`npm run build:llama -- --tools\``);
  }

  /** Options every generation shares: threads, layers, context, sampling as verispec's. */
  private common(g: ToolGeneration): string[] {
    const sampling = g.temperature > 0 ? ["--temp", String(g.temperature), "--top-k", "0", "--top-p", "1", "--min-p", "0"] : ["--temp", "0"];
    return [
      ...["-m", this.o.target, "-n", String(g.maxTokens), "--seed", String(g.seed), "-t", String(this.o.threads), "-ngl", String(this.o.gpuLayers)],
      ...["-c", String(this.o.contextSize), "--no-mmap", "--repeat-penalty", String(g.repetitionPenalty), "--repeat-last-n", "64", ...sampling],
    ];
  }

  async close(): Promise<void> {}

  /** The target alone: llama-completion's prefill, sampling and decoding. */
  async targetOnly(g: ToolGeneration): Promise<ToolRun> {
    return retriedOnce(async () => {
      const out = await this.completion(g);
      const ms = number(out, /prompt eval time =\s+([\d.]+) ms/, "prompt eval time") + number(out, /sampling time =\s+([\d.]+) ms/, "sampling time");
      const evalMs = number(out, /:\s+eval time =\s+([\d.]+) ms/, "eval time");
      const runs = number(out, /:\s+eval time =\s+[\d.]+ ms \/\s+(\d+) runs/, "eval runs");
      return { tokens: runs + 1, seconds: (ms + evalMs) / 1000, drafted: 0, accepted: 0 };
    });
  }

  private async completion(g: ToolGeneration, maxTokens = g.maxTokens): Promise<string> {
    const args = [...this.common({ ...g, maxTokens }), "-no-cnv", "--no-display-prompt", "-p", g.prompt];
    const { stdout, stderr } = await run(path.join(this.o.binDir, "llama-completion"), args);
    return stdout + stderr;
  }

  /** The prompt's prefill as llama-completion measures it (once per prompt). */
  private async prefill(g: ToolGeneration): Promise<number> {
    if (!this.prefills.has(g.prompt)) {
      const ms = await retriedOnce(async () => number(await this.completion(g, 1), /prompt eval time =\s+([\d.]+) ms/, "prompt eval time"));
      this.prefills.set(g.prompt, ms / 1000);
    }
    return this.prefills.get(g.prompt)!;
  }

  /** Speculative decoding with the configuration's types and options, at draft length k (0: the types' defaults). */
  async speculative(g: ToolGeneration, spec: SpecConfig, k: number): Promise<ToolRun> {
    const args = [...this.common(g), "-p", g.prompt, "--spec-type", spec.types.join(","), ...draftModelOptions(this.o, spec)];
    args.push(...lengthOptions(spec, k));
    for (const [key, value] of spec.options) args.push(`--${key}`, value);
    const decoded = await retriedOnce(async () => {
      const { stdout, stderr } = await run(path.join(this.o.binDir, "llama-speculative-simple"), args);
      const out = stdout + stderr;
      return {
        tokens: number(out, /decoded\s+(\d+) tokens in/, "decoded token count"),
        seconds: number(out, /decoded\s+\d+ tokens in\s+([\d.]+) seconds/, "decode time"),
        drafted: number(out, /n_drafted\s*=\s*(\d+)/, "n_drafted"),
        accepted: number(out, /n_accept\s*=\s*(\d+)/, "n_accept"),
      };
    });
    const tokens = Math.min(g.maxTokens, decoded.tokens);
    const share = decoded.tokens > 0 ? tokens / decoded.tokens : 1;
    return { ...decoded, tokens, seconds: (await this.prefill(g)) + decoded.seconds * share };
  }
}
