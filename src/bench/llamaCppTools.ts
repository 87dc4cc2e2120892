/**
 * llama.cpp's own programs as benchmark peers, built from the same source (`npm run build:llama -- --tools`):
 * llama-simple (the target alone, greedy) and llama-speculative-simple (a draft model, k tokens a block).
 * Each generation is one process; its time is the one the program prints, which leaves out model loading
 * and, like verispec's own figures, includes the prompt's prefill (llama-speculative-simple prints the two
 * apart; they are added). On the CPU the target alone runs as llama-bench's prompt-plus-generation test
 * instead (`-pg P,N -t threads`, P the prompt's length), because llama-simple cannot be given a thread count
 * (its default of 4 would overload a 2-core machine).
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { stockEnvironment } from "../backends/llamaCpp/batchInvariance.js";

const execFileAsync = promisify(execFile);
/** Peers run llama.cpp's stock kernels even where this process computes batch-invariantly. */
const run = (file: string, args: string[], o: { maxBuffer: number }) => execFileAsync(file, args, { ...o, env: stockEnvironment() });

export interface ToolRun {
  tokens: number;
  seconds: number;
  /** llama-speculative-simple's draft statistics (0 for llama-simple). */
  drafted: number;
  accepted: number;
}

export interface LlamaCppToolsOptions {
  /** The folder holding llama-simple and llama-speculative-simple. */
  binDir: string;
  target: string;
  draft?: string;
  /** Layers on the GPU for both models (99: all). */
  gpuLayers: number;
  threads: number;
}

function number(output: string, pattern: RegExp, what: string): number {
  const m = output.match(pattern);
  if (!m) throw new Error(`llama.cpp printed no ${what}; its output ended: ${output.slice(-400)}`);
  return Number(m[1]);
}

export class LlamaCppTools {
  constructor(private readonly o: LlamaCppToolsOptions) {
    for (const tool of ["llama-simple", "llama-speculative-simple", "llama-bench"])
      if (!existsSync(path.join(o.binDir, tool))) throw new Error(`${tool} is not in ${o.binDir}; build it with \`npm run build:llama -- --tools\``);
  }

  /** The target alone, greedy. */
  async targetOnly(prompt: string, promptTokens: number, maxTokens: number): Promise<ToolRun> {
    if (this.o.gpuLayers === 0) return this.benchTargetOnly(promptTokens, maxTokens);
    const args = ["-m", this.o.target, "-n", String(maxTokens), "-ngl", String(this.o.gpuLayers), prompt];
    const { stderr } = await run(path.join(this.o.binDir, "llama-simple"), args, { maxBuffer: 1 << 26 });
    const tokens = number(stderr, /decoded (\d+) tokens in/, "decoded token count");
    return { tokens, seconds: number(stderr, /decoded \d+ tokens in ([\d.]+) s/, "decode time"), drafted: 0, accepted: 0 };
  }

  /** llama-bench's prompt-plus-generation test (its speed counts both), on the CPU with the given threads. */
  private async benchTargetOnly(promptTokens: number, maxTokens: number): Promise<ToolRun> {
    const t = String(this.o.threads);
    const args = ["-m", this.o.target, "-p", "0", "-n", "0", "-pg", `${promptTokens},${maxTokens}`, "-t", t, "-ngl", "0", "-r", "1", "-o", "json"];
    const { stdout } = await run(path.join(this.o.binDir, "llama-bench"), args, { maxBuffer: 1 << 26 });
    const [result] = JSON.parse(stdout) as { n_prompt: number; n_gen: number; avg_ts: number }[];
    if (!result?.avg_ts) throw new Error(`llama-bench printed no speed: ${stdout.slice(-400)}`);
    return { tokens: result.n_gen, seconds: (result.n_prompt + result.n_gen) / result.avg_ts, drafted: 0, accepted: 0 };
  }

  /** Speculative decoding with the draft model, at most k drafted tokens a block, greedy. */
  async speculative(prompt: string, maxTokens: number, k: number, seed: number): Promise<ToolRun> {
    if (!this.o.draft) throw new Error("llamacpp-spec needs a draft model");
    const g = String(this.o.gpuLayers);
    const args = ["-m", this.o.target, "-md", this.o.draft, "-p", prompt, "-n", String(maxTokens), "--temp", "0", "--seed", String(seed)];
    // --no-mmap reads the weights at load, outside the timed decode (as llama-bench's warm-up run does for it).
    args.push("--spec-type", "draft-simple", "--spec-draft-n-max", String(k), "-ngl", g, "-ngld", g, "-t", String(this.o.threads), "-c", "4096", "--no-mmap");
    const { stdout, stderr } = await run(path.join(this.o.binDir, "llama-speculative-simple"), args, { maxBuffer: 1 << 26 });
    const out = stdout + stderr;
    return {
      tokens: number(out, /decoded\s+(\d+) tokens in/, "decoded token count"),
      seconds:
        number(out, /encoded\s+\d+ tokens in\s+([\d.]+) seconds/, "prefill time") + number(out, /decoded\s+\d+ tokens in\s+([\d.]+) seconds/, "decode time"),
      drafted: number(out, /n_drafted\s*=\s*(\d+)/, "n_drafted"),
      accepted: number(out, /n_accept\s*=\s*(\d+)/, "n_accept"),
    };
  }
}
