/** GGUF models run by llama.cpp through verispec's own native binding. */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { GgufFormatError, readGgufHeader } from "../../gguf/ggufReader.js";
import {
  addCallStats,
  CELL_ORDER,
  DEFAULT_BATCH_SIZE,
  DEFAULT_CONTEXT_SIZE,
  emptyCallStats,
  type LanguageModel,
  type ModelCallStats,
  type ModelSession,
  type PassNumerics,
  type SessionOptions,
} from "../../model/session.js";
import { batchInvarianceOn, enableBatchInvariance, noteContextCreated } from "./batchInvariance.js";
import { ContextPool } from "./contextPool.js";
import { type HeadSessionOptions, LlamaCppHeadSession } from "./headSession.js";
import { LlamaCppSession } from "./llamaCppSession.js";
import { LlamaCppVocabulary } from "./llamaCppVocabulary.js";
import { type NativeBinding, type NativeContext, type NativeLoadOptions, type NativeModel, type NativeModelInfo, nativeBinding } from "./native.js";
import { rpcDevices } from "./rpc/rpcDevices.js";
import { physicalCoreCount } from "./threads.js";

export interface LlamaCppLoadOptions {
  /** CPU threads for every session of this model; defaults to the number of physical cores. */
  threads?: number;
  /** Layers to offload to a GPU when the loaded llama.cpp has one; all (-1) by default. */
  gpuLayers?: number;
  /** "cpu" keeps every layer on the CPU; "gpu" requires a GPU and puts the layers there. Either by default. */
  device?: "cpu" | "gpu";
  /**
   * Keep the KV cache in float32 instead of llama.cpp's float16 (more memory).
   * Rounding keys and values to float16 turns the last-bit differences between
   * batch shapes into visible logit differences; float32 keeps them tiny.
   */
  f32Cache?: boolean;
  /**
   * Compute every token's logits the same way whatever the pass's shape, so greedy speculative text equals
   * one-token decoding bit for bit on CUDA (./batchInvariance.ts). Needs verispec's CUDA build of llama.cpp and
   * the model on the GPU; holds for the whole process.
   */
  batchInvariant?: boolean;
  /**
   * Place the model's layers on these llama.cpp RPC servers ("host:port"), in order. In-process RPC aborts the
   * whole process when a server dies (llama.cpp's behaviour); `openLlamaCppModel` runs such a model in a worker
   * process instead, which is what the CLI does.
   */
  rpcServers?: readonly string[];
  /** Share of the layers per RPC device (defaults to llama.cpp's split by free memory). */
  tensorSplit?: readonly number[];
  /** How long a server may take to accept a connection before it counts as unreachable (ms). */
  rpcConnectTimeoutMs?: number;
  /** Load only the vocabulary and the model's description: no weights, no sessions. */
  vocabularyOnly?: boolean;
  /**
   * Where passes run: on a worker thread, so the event loop goes on during each pass ("worker", the default: a
   * server), or on the calling JavaScript thread ("caller"), which saves the hand-offs to the worker and back and
   * its wake-ups: 15-20% of a decode of the embedded target on a 2-core CPU, for a generation that has nothing
   * else to do meanwhile (the CLI's generate and bench).
   */
  decodeOn?: DecodeThread;
}

export type DecodeThread = "worker" | "caller";

/**
 * Pairs a head decode takes by default. llama.cpp's eagle3 graph computes every entry's logits, so a head context's
 * compute buffer holds a batch of vocabulary rows: about 31 MB a context at 512 entries, 9 at 64 (the embedded pair);
 * a long prompt's pairs go in several decodes of the same total work.
 */
const HEAD_BATCH_SIZE = 64;

/** Default wait for an RPC server to accept a connection. */
export const DEFAULT_RPC_CONNECT_TIMEOUT_MS = 5000;

async function placement(native: NativeBinding, o: LlamaCppLoadOptions): Promise<{ gpuLayers: number; options: NativeLoadOptions }> {
  const vocabOnly = o.vocabularyOnly ?? false;
  if (!o.rpcServers || vocabOnly) {
    if (o.tensorSplit) throw new RangeError("a tensor split needs RPC servers to split across");
    if (o.device === "gpu" && !native.devices().some((d) => d.type === "gpu" || d.type === "igpu"))
      throw new Error(
        "--device gpu: the loaded llama.cpp has no GPU (node-llama-cpp's CPU libraries); build one with `npm run build:llama -- --backend cuda` and set VERISPEC_LLAMA_BUILD=cuda",
      );
    return { gpuLayers: o.device === "cpu" ? 0 : (o.gpuLayers ?? -1), options: { vocabOnly } };
  }
  const devices = await rpcDevices(native, o.rpcServers, o.rpcConnectTimeoutMs ?? DEFAULT_RPC_CONNECT_TIMEOUT_MS);
  if (o.tensorSplit && (o.tensorSplit.length !== devices.length || o.tensorSplit.some((x) => !(x >= 0)) || !o.tensorSplit.some((x) => x > 0)))
    throw new RangeError(`the tensor split needs ${devices.length} non-negative shares (one per RPC device), not ${o.tensorSplit.join(",")}`);
  return { gpuLayers: -1, options: { devices, tensorSplit: o.tensorSplit ? [...o.tensorSplit] : undefined } };
}

/** Thrown when a model file is missing or is not a usable GGUF file; the message is one line naming the file. */
export class ModelFileError extends Error {}

function checkModelFile(file: string): void {
  if (!existsSync(file)) throw new ModelFileError(`model file not found: ${file}`);
  if (!statSync(file).isFile()) throw new ModelFileError(`model path is not a file: ${file}`);
  try {
    readGgufHeader(file);
  } catch (e) {
    const why = e instanceof GgufFormatError ? e.message : String(e);
    throw new ModelFileError(`${file}: ${why}`);
  }
}

export class LlamaCppModel implements LanguageModel {
  readonly name: string;
  readonly vocabulary: LlamaCppVocabulary;
  readonly trainContextSize: number;
  readonly threads: number;
  readonly f32Cache: boolean;
  private disposed = false;
  private vocabularyOnly = false;
  /** Whether passes run on this process's GPU (rather than its CPU or RPC servers). */
  private onGpu = false;
  private readonly sessions = new Set<LlamaCppSession>();
  /** Head sessions of this model where it is an EAGLE-3 head (their contexts go before the weights). */
  private readonly heads = new Set<LlamaCppHeadSession>();
  /** Contexts of disposed sessions, kept for the next session of the same shape. */
  private readonly pool: ContextPool;
  /** Call stats of the sessions already disposed. */
  private retiredStats = emptyCallStats();

  private constructor(
    private readonly native: NativeBinding,
    private readonly model: NativeModel,
    readonly file: string,
    readonly info: NativeModelInfo,
    threads: number,
    f32Cache: boolean,
    private readonly decodeOn: DecodeThread,
  ) {
    this.name = path.basename(file, ".gguf");
    this.f32Cache = f32Cache;
    this.vocabulary = new LlamaCppVocabulary(native, model, info);
    this.trainContextSize = info.trainContextSize;
    this.threads = threads;
    this.pool = new ContextPool(native);
  }

  /** Loads a GGUF file; a missing, foreign or truncated file gives a ModelFileError. */
  static async load(file: string, options: LlamaCppLoadOptions = {}): Promise<LlamaCppModel> {
    const threads = options.threads ?? physicalCoreCount();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    checkModelFile(file);
    const native = nativeBinding();
    const { gpuLayers, options: nativeOptions } = await placement(native, options);
    const invariant = options.batchInvariant ?? false;
    if (invariant && options.rpcServers) throw new RangeError("batch invariance holds for this process's llama.cpp, not for RPC servers");
    if (invariant) enableBatchInvariance(native.buildInfo(), gpuLayers !== 0 && native.devices().some((d) => d.type === "gpu"));
    let model: NativeModel;
    try {
      // Repacked weights take one matrix kernel for a one-row pass and another for more rows (Q4_K on AVX2): not
      // batch-invariant, so they are kept as stored.
      const loadOptions = batchInvarianceOn() ? { ...nativeOptions, extraBuffers: false } : nativeOptions;
      model = native.loadModel(path.resolve(file), gpuLayers, loadOptions);
    } catch (e) {
      throw new ModelFileError(((e as Error).message ?? String(e)).split("\n").join(" "));
    }
    const loaded = new LlamaCppModel(native, model, file, native.modelInfo(model), threads, options.f32Cache ?? false, options.decodeOn ?? "worker");
    loaded.vocabularyOnly = nativeOptions.vocabOnly ?? false;
    loaded.onGpu = gpuLayers !== 0 && !options.rpcServers && native.devices().some((d) => d.type === "gpu" || d.type === "igpu");
    return loaded;
  }

  async createSession(options: SessionOptions = {}): Promise<ModelSession> {
    if (this.disposed) throw new Error("the model has been disposed");
    if (this.vocabularyOnly) throw new Error(`${this.name} was loaded for its vocabulary only`);
    // llama.cpp aborts the process on a head's pass without a target context to read.
    if (this.headLayers().length > 0)
      throw new Error(`${this.name} is an EAGLE-3 head: it drafts from a target's states (--draft eagle or --draft <head>.gguf), it is not a model of its own`);
    const contextSize = options.contextSize ?? Math.min(this.trainContextSize, DEFAULT_CONTEXT_SIZE);
    const maxSequences = options.maxSequences ?? 1;
    const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, contextSize);
    for (const [key, v] of Object.entries({ contextSize, maxSequences, batchSize })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
    }
    const shape = { contextSize, batchSize, maxSequences };
    noteContextCreated();
    const context = this.pool.take(shape) ?? this.native.createContext(this.model, contextSize, batchSize, maxSequences, this.threads, this.f32Cache);
    const release = (released: NativeContext) => {
      this.retiredStats = addCallStats(this.retiredStats, session.callStats());
      this.sessions.delete(session);
      if (this.disposed) this.native.freeContext(released);
      else this.pool.put(shape, released);
    };
    const invariant = options.batchInvariant ?? true;
    const session = new LlamaCppSession(this.native, context, this.vocabulary, release, {
      rowSummary: options.rowSummary,
      batchInvariant: invariant,
      passNumerics: this.passNumerics(invariant),
      decodeOn: this.decodeOn,
      embeddingSize: this.info.embeddingSize,
      openHead: (target, head, sequence, contextSize) => {
        if (!(head instanceof LlamaCppModel)) throw new Error(`${head.name} is not a llama.cpp model of this process: it cannot read this target`);
        return head.createHeadSession(target, { contextSize, sequence });
      },
    });
    this.sessions.add(session);
    return session;
  }

  /** A session's PassNumerics: CUDA's stock kernels change with a pass's size; batch invariance keeps all but prefills alike. */
  private passNumerics(invariantSession: boolean): PassNumerics {
    if (!this.onGpu) return CELL_ORDER;
    const invariant = batchInvarianceOn() && invariantSession;
    return { passSizeMatters: !invariant, prefillsApart: invariant };
  }

  /** The target layers this model reads where it is an EAGLE-3 head; empty for other models. */
  headLayers(): number[] {
    return [...this.native.headLayers(this.model)];
  }

  /**
   * A head session of this EAGLE-3 head on a target session of this process's llama.cpp: the target's passes keep
   * the head's layers' inputs from then on. It must be disposed before the target session.
   */
  createHeadSession(target: ModelSession, options: HeadSessionOptions = {}): LlamaCppHeadSession {
    const layers = this.headLayers();
    if (layers.length === 0) throw new Error(`${this.name} is not an EAGLE-3 head`);
    if (!(target instanceof LlamaCppSession)) throw new Error("an EAGLE-3 head drafts for a llama.cpp target session of this process");
    const inputs = target.layerInputs;
    if (inputs.embeddingSize !== this.info.embeddingSize)
      throw new Error(`${this.name} is ${this.info.embeddingSize} wide, its target ${inputs.embeddingSize}: a head reads the target's own matrices`);
    const contextSize = options.contextSize ?? target.contextSize;
    const batchSize = Math.min(options.batchSize ?? HEAD_BATCH_SIZE, contextSize);
    const context = this.native.createHeadContext(this.model, inputs.context, contextSize, batchSize, options.maxSequences ?? 1, this.threads);
    inputs.acquire(layers);
    let returned = () => {};
    const release = () => {
      returned();
      this.heads.delete(head);
      inputs.unacquire();
    };
    const head = new LlamaCppHeadSession(
      this.native,
      context,
      inputs,
      { width: this.info.embeddingSize, batchSize, vocabSize: this.info.vocabSize },
      release,
      options.sequence ?? 0,
    );
    this.heads.add(head);
    // The target session ends its head first: the head's context reads the target context's matrices.
    returned = inputs.lend(head);
    return head;
  }

  /** Head sessions of this EAGLE-3 head not yet disposed, each holding a context of its own (FeatureHeadModel). */
  get openSessions(): number {
    return this.heads.size;
  }

  callStats(): ModelCallStats {
    return [...this.sessions].reduce((sum, s) => addCallStats(sum, s.callStats()), this.retiredStats);
  }

  /** Frees the weights, and first every session still open on them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const h of [...this.heads]) h.dispose();
    for (const s of [...this.sessions]) s.dispose();
    this.pool.clear();
    this.native.freeModel(this.model);
  }
}
