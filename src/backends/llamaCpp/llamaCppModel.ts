/** GGUF models run by llama.cpp through verispec's own native binding. */
import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { GgufFormatError, readGgufHeader } from "../../gguf/ggufReader.js";
import { DEFAULT_BATCH_SIZE, DEFAULT_CONTEXT_SIZE, type LanguageModel, type ModelSession, type SessionOptions } from "../languageModel.js";
import { LlamaCppSession } from "./llamaCppSession.js";
import { LlamaCppVocabulary } from "./llamaCppVocabulary.js";
import { type NativeBinding, type NativeModel, type NativeModelInfo, nativeBinding } from "./native.js";
import { physicalCoreCount } from "./threads.js";

export interface LlamaCppLoadOptions {
  /** CPU threads for every session of this model; defaults to the number of physical cores. */
  threads?: number;
  /** Layers to offload to a GPU (when the loaded llama.cpp has a GPU backend); 0 by default, -1 for all. */
  gpuLayers?: number;
  /**
   * Keep the KV cache in float32 instead of llama.cpp's float16 (more memory).
   * Rounding keys and values to float16 turns the last-bit differences between
   * batch shapes into visible logit differences; float32 keeps them tiny.
   */
  f32Cache?: boolean;
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
  private readonly sessions = new Set<LlamaCppSession>();

  private constructor(
    private readonly native: NativeBinding,
    private readonly model: NativeModel,
    readonly file: string,
    readonly info: NativeModelInfo,
    threads: number,
    f32Cache: boolean,
  ) {
    this.name = path.basename(file, ".gguf");
    this.f32Cache = f32Cache;
    this.vocabulary = new LlamaCppVocabulary(native, model, info);
    this.trainContextSize = info.trainContextSize;
    this.threads = threads;
  }

  /** Loads a GGUF file; a missing, foreign or truncated file gives a ModelFileError. */
  static async load(file: string, options: LlamaCppLoadOptions = {}): Promise<LlamaCppModel> {
    const threads = options.threads ?? physicalCoreCount();
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
    checkModelFile(file);
    const native = nativeBinding();
    let model: NativeModel;
    try {
      model = native.loadModel(path.resolve(file), options.gpuLayers ?? 0);
    } catch (e) {
      throw new ModelFileError(((e as Error).message ?? String(e)).split("\n").join(" "));
    }
    return new LlamaCppModel(native, model, file, native.modelInfo(model), threads, options.f32Cache ?? false);
  }

  async createSession(options: SessionOptions = {}): Promise<ModelSession> {
    if (this.disposed) throw new Error("the model has been disposed");
    const contextSize = options.contextSize ?? Math.min(this.trainContextSize, DEFAULT_CONTEXT_SIZE);
    const maxSequences = options.maxSequences ?? 1;
    const batchSize = Math.min(options.batchSize ?? DEFAULT_BATCH_SIZE, contextSize);
    for (const [key, v] of Object.entries({ contextSize, maxSequences, batchSize })) {
      if (!Number.isInteger(v) || v < 1) throw new RangeError(`${key} must be a positive integer, got ${v}`);
    }
    const context = this.native.createContext(this.model, contextSize, batchSize, maxSequences, this.threads, this.f32Cache);
    const session = new LlamaCppSession(this.native, context, this.vocabulary, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  /** Frees the weights, and first every session still open on them. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of [...this.sessions]) s.dispose();
    this.native.freeModel(this.model);
  }
}
