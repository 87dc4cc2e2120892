/**
 * Batch invariance: a token's logits come out bit for bit the same whether llama.cpp decodes it alone or inside a
 * pass over a block, so greedy speculative text equals one-token decoding on CUDA too, where stock kernels sum in
 * another order for each pass shape and near-ties then flip. On the CPU, ggml-cpu's attention does the same in passes
 * of 64 rows or more and in one-row passes over 512 cells or more (scripts/llamaPatches/cpu.mjs): there the whole
 * process takes ggml-cpu's reference kernels, prefills and drafters included. It needs verispec's build of llama.cpp, whose patches
 * (scripts/llamaPatches.mjs) act under GGML_BATCH_INVARIANT=1; llama.cpp reads that once per process, at its first
 * pass, so the choice is per process. Prompt prefills and drafters still run the stock kernels (SessionOptions,
 * EvaluateOptions; native.setStockKernels): their numbers need not match passes of other shapes.
 */
import type { NativeBuildInfo } from "./native.js";

const VARIABLE = "GGML_BATCH_INVARIANT";

let enabled = false;
let contextCreated = false;
/** Whether this module set the variable (rather than the user). */
let setHere = false;

/** Turns batch invariance on for this process; throws where it cannot hold. */
export function enableBatchInvariance(build: NativeBuildInfo, hasGpu: boolean): void {
  if (enabled) return;
  if (!build.batchInvariance)
    throw new Error(
      "batch invariance needs verispec's build of llama.cpp (npm run build:llama -- --backend cpu or cuda, then VERISPEC_LLAMA_BUILD=cpu or cuda); the loaded libraries lack its patches",
    );
  if (!hasGpu && !build.cpuInvariance)
    throw new Error("batch invariance on the CPU needs verispec's current llama.cpp patches (rebuild: npm run build:llama -- --backend cpu)");
  if (hasGpu && !build.stockPasses)
    throw new Error(
      "batch invariance needs the CUDA backend of verispec's current llama.cpp patches (rebuild: npm run build:llama -- --backend cuda); the loaded one cannot run prefills on the stock kernels",
    );
  if (contextCreated) throw new Error("batch invariance must be chosen before this process's first session (llama.cpp reads it once)");
  setHere = process.env[VARIABLE] === undefined;
  process.env[VARIABLE] = "1";
  enabled = true;
}

/** Whether this process's CUDA passes compute batch-invariantly: turned on here, or by the environment it started with. */
export function batchInvarianceOn(): boolean {
  // llama.cpp's check: atoi(value) != 0.
  const value = Number.parseInt(process.env[VARIABLE] ?? "0", 10);
  return enabled || (Number.isFinite(value) && value !== 0);
}

/** Called before every context is created: from then on the choice is made for this process. */
export function noteContextCreated(): void {
  contextCreated = true;
}

/** The environment for a child process that must run llama.cpp's stock kernels (a benchmark peer). */
export function stockEnvironment(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (setHere) delete env[VARIABLE];
  return env;
}
