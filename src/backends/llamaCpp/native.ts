/** Loads verispec's native llama.cpp binding (built by `npm ci` from native/verispec_llama.cc). */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import type { ModelCallStats } from "../../model/session.js";
import { packageRoot } from "../../util/packageRoot.js";

declare const modelBrand: unique symbol;
declare const contextBrand: unique symbol;
export type NativeModel = { readonly [modelBrand]: true };
export type NativeContext = { readonly [contextBrand]: true };

export interface NativeModelInfo {
  description: string;
  vocabSize: number;
  trainContextSize: number;
  embeddingSize: number;
  parameters: number;
  sizeBytes: number;
  bos: number;
  eos: number;
  eot: number;
  vocabType: number;
}

export interface NativeVocabulary {
  texts: string[];
  pieces: Uint8Array[];
  eog: Uint8Array;
  attrs: Int32Array;
}

/** A backend device of the loaded llama.cpp (the CPU, a GPU, an RPC server's device). */
export interface NativeDevice {
  name: string;
  description: string;
  type: "cpu" | "gpu" | "igpu" | "accelerator";
  /** The ggml backend registry it belongs to ("CPU", "CUDA", "RPC", ...). */
  backend: string;
  memoryFree: number;
  memoryTotal: number;
}

export interface NativeBuildInfo {
  systemInfo: string;
  /** The folder of the llama.cpp libraries the binding was linked against. */
  libraryDir: string;
  backends: string[];
  rpc: boolean;
  gpuOffload: boolean;
  /** Linked against verispec's patched llama.cpp, which can compute batch-invariantly (batchInvariance.ts). */
  batchInvariance: boolean;
  /** Its CUDA backend lets a context take the stock kernels under batch invariance (setStockKernels). */
  stockPasses: boolean;
  /** Its CPU backend takes ggml-cpu's reference kernels under batch invariance (scripts/llamaPatches/cpu.mjs). */
  cpuInvariance: boolean;
}

export interface NativeLoadOptions {
  /** Device names (see `devices()`), in the order the tensor split refers to. */
  devices?: string[];
  /** Share of the layers per device. */
  tensorSplit?: number[];
  /** Only the vocabulary, no weights (no sessions can be created). */
  vocabOnly?: boolean;
  /** llama.cpp's extra buffer types (weights repacked for the CPU's matrix kernels); default true. */
  extraBuffers?: boolean;
}

/** A pass's arguments: the context, the batch as typed arrays, and room for the output rows' summaries. */
export type PassArguments = [
  context: NativeContext,
  tokens: Int32Array,
  positions: Int32Array,
  seqOffsets: Int32Array,
  seqIds: Int32Array,
  outputs: Uint8Array,
  summaryTop: number,
  summaries: Float64Array,
];

/** The functions of native/*.cc. */
export interface NativeBinding {
  init(verbose: boolean): number;
  loadModel(path: string, gpuLayers: number, options?: NativeLoadOptions): NativeModel;
  freeModel(model: NativeModel): void;
  modelInfo(model: NativeModel): NativeModelInfo;
  vocabulary(model: NativeModel): NativeVocabulary;
  tokenize(model: NativeModel, text: string, addSpecial: boolean, parseSpecial: boolean): Int32Array;
  createContext(model: NativeModel, contextSize: number, batchSize: number, maxSequences: number, threads: number, f32Cache: boolean): NativeContext;
  freeContext(context: NativeContext): void;
  contextInfo(context: NativeContext): { contextSize: number; batchSize: number; maxSequences: number };
  /** One pass; `summaries` (when summaryTop > 0) gets a row summary per output row. Resolves with the rows. */
  decodePass(...args: PassArguments): Promise<number>;
  /** A pass, then each output row continued with its argmax for `steps` tokens (into `drafted`). Resolves with the steps. */
  decodeGreedyRun(...args: [...PassArguments, steps: number, drafted: Int32Array]): Promise<number>;
  /**
   * A pass, then its one output row continued with draws for `steps` tokens; sampler: [temperature, topK, topP, 0, one
   * uniform per step] or [temperature, topK, topP, 1, seed, first position]; distributions: steps x vocabulary, what
   * each token was drawn from. Resolves with the steps.
   */
  decodeSampledRun(...args: [...PassArguments, steps: number, drafted: Int32Array, sampler: Float64Array, distributions: Float64Array]): Promise<number>;
  /** The same three on the calling thread: they return what the promises resolve with, or throw. */
  decodePassSync(...args: Parameters<NativeBinding["decodePass"]>): number;
  decodeGreedyRunSync(...args: Parameters<NativeBinding["decodeGreedyRun"]>): number;
  decodeSampledRunSync(...args: Parameters<NativeBinding["decodeSampledRun"]>): number;
  /** The sampling distribution (temperature, top-k, top-p) at output row `row` of the last decode, into out. */
  samplingRow(context: NativeContext, row: number, temperature: number, topK: number, topP: number, out: Float64Array): void;
  /** The token uniform u picks from that distribution by inverse CDF in id order (sampling/distribution.ts's sampleFrom). */
  sampleRow(context: NativeContext, row: number, temperature: number, topK: number, topP: number, u: number): number;
  /** The token the coupled draw at `position` under `seed` picks from that distribution (sampling/coupledDraw.ts's rule). */
  coupledRow(context: NativeContext, row: number, temperature: number, topK: number, topP: number, seed: number, position: number): number;
  /** Copies output row `row` of the context's last decode into out[offset..]. */
  copyRow(context: NativeContext, row: number, out: Float32Array, offset: number): void;
  /** Time split of the context's decode calls so far. */
  contextStats(context: NativeContext): ModelCallStats;
  seqRemove(context: NativeContext, sequence: number, from: number, to: number): boolean;
  seqCopy(context: NativeContext, source: number, destination: number, from: number, to: number): void;
  seqKeep(context: NativeContext, sequence: number): void;
  seqPositionMax(context: NativeContext, sequence: number): number;
  memoryClear(context: NativeContext): void;
  devices(): NativeDevice[];
  buildInfo(): NativeBuildInfo;
  /** Loads a ggml backend module; returns its registry name. */
  loadBackend(path: string): string;
  /**
   * The context's next decodes run llama.cpp's stock kernels (true) or keep batch invariance where the process
   * has it on (false, the default); nothing changes without verispec's patched CUDA backend (native/invariance.cc).
   */
  setStockKernels(context: NativeContext, stock: boolean): void;
  /** From the next pass on, the context keeps the input of each of these layers for every token of a pass (empty: none). */
  captureLayers(context: NativeContext, layers: Int32Array): void;
  /** The captured layers' inputs of a sequence's tokens at these positions, as the last pass computing each left them. */
  layerFeatures(context: NativeContext, sequence: number, positions: Int32Array, out: Float32Array): void;
  /** The target layers an EAGLE-3 head reads (empty for other models). */
  headLayers(model: NativeModel): Int32Array;
  /** An EAGLE-3 head's context, borrowing the target context's embeddings and output matrix; freed before the target's. */
  createHeadContext(head: NativeModel, target: NativeContext, contextSize: number, batchSize: number, maxSequences: number, threads: number): NativeContext;
  /** The head's `fc` over n rows of concatenated target layer inputs: n x embedding floats into out. */
  headEncode(head: NativeContext, features: Float32Array, n: number, out: Float32Array): void;
  /**
   * Decodes (token, feature) pairs into the head's cache; each entry asked for keeps its logits for copyRow (in order)
   * and writes its pre-norm state (the next step's feature) into prenorm; with `top` > 0, also each such row's summary
   * of its `top` most likely tokens into summaries (2 + 2 top doubles a row, as a pass's).
   */
  headDecode(
    head: NativeContext,
    tokens: Int32Array,
    positions: Int32Array,
    seqIds: Int32Array,
    features: Float32Array,
    outputs: Uint8Array,
    prenorm: Float32Array,
    summaries?: Float64Array,
    top?: number,
  ): void;
  /** Registers an RPC server (which must answer: llama.cpp aborts otherwise); returns the names of its devices. */
  addRpcServer(endpoint: string): string[];
}

let binding: NativeBinding | undefined;

/**
 * The binding's file: the one `npm ci` builds against node-llama-cpp's prebuilt libraries, or, with
 * VERISPEC_LLAMA_BUILD=<backend>, the one `npm run build:llama -- --backend <backend>` built against llama.cpp
 * built from source (CUDA for the local GPU, say).
 */
export function bindingFile(): string {
  const build = process.env.VERISPEC_LLAMA_BUILD;
  if (!build) return path.join(packageRoot(), "build", "Release", "verispec_llama.node");
  if (!/^[\w-]+$/.test(build)) throw new Error(`VERISPEC_LLAMA_BUILD must name a build (cpu, cuda), not ${build}`);
  return path.join(packageRoot(), "native", ".llama-build", build, "verispec_llama.node");
}

/** The binding, loaded and initialised once (set VERISPEC_LLAMA_LOG=1 to see llama.cpp's own log). */
export function nativeBinding(): NativeBinding {
  if (binding) return binding;
  const file = bindingFile();
  if (!existsSync(file)) {
    const how = process.env.VERISPEC_LLAMA_BUILD ? `npm run build:llama -- --backend ${process.env.VERISPEC_LLAMA_BUILD}` : "npm ci or npm run build:native";
    throw new Error(`the native llama.cpp binding is not built (${file}); run ${how}`);
  }
  const loaded = createRequire(import.meta.url)(file) as NativeBinding;
  loaded.init(process.env.VERISPEC_LLAMA_LOG === "1");
  binding = loaded;
  return loaded;
}
