/**
 * A llama.cpp model run by a worker process, so that llama.cpp's aborts (an RPC server that dies) and
 * stalls (one that stops answering) end that process, not this one. The vocabulary is read here (the
 * file's vocabulary only), so tokenizing never waits on the worker.
 */
import path from "node:path";
import type { LanguageModel, ModelSession, SessionOptions } from "../../../model/session.js";
import { DEFAULT_RPC_CONNECT_TIMEOUT_MS, type LlamaCppLoadOptions, LlamaCppModel, ModelFileError } from "../llamaCppModel.js";
import type { LlamaCppVocabulary } from "../llamaCppVocabulary.js";
import type { NativeModelInfo } from "../native.js";
import { RpcServerError } from "../rpc/rpcEndpoints.js";
import { ProcessSession } from "./processSession.js";
import { WorkerConnection } from "./workerConnection.js";

export interface ProcessModelOptions extends LlamaCppLoadOptions {
  /** Longest wait for one evaluate or session call before the worker counts as stalled (ms). */
  callTimeoutMs?: number;
  /** Longest wait for the model to load (ms). */
  loadTimeoutMs?: number;
}

export const DEFAULT_CALL_TIMEOUT_MS = 30_000;
export const DEFAULT_LOAD_TIMEOUT_MS = 300_000;

const ERROR_KINDS: Record<string, new (message: string) => Error> = { ModelFileError, RangeError, RpcServerError };

/** Rebuilds errors the worker reports as their own kinds; anything else about an RPC target is an RpcServerError. */
export function workerErrors(rpc: boolean) {
  return (name: string, message: string): Error => new (ERROR_KINDS[name] ?? (rpc ? RpcServerError : Error))(message);
}

/** The worker's llama.cpp build and devices, with the given RPC servers registered (hang-safe: a stalled server times out). */
export async function listDevices(rpcServers: string[], timeoutMs = DEFAULT_CALL_TIMEOUT_MS) {
  const worker = WorkerConnection.start(`the RPC servers ${rpcServers.join(",")}`, workerErrors(rpcServers.length > 0));
  try {
    return await worker.call("devices", { rpcServers, connectTimeoutMs: Math.min(timeoutMs, DEFAULT_RPC_CONNECT_TIMEOUT_MS) }, timeoutMs);
  } finally {
    worker.close();
  }
}

export class ProcessModel implements LanguageModel {
  readonly name: string;
  readonly trainContextSize: number;
  private readonly sessions = new Set<ProcessSession>();

  private constructor(
    private readonly local: LlamaCppModel,
    private readonly worker: WorkerConnection,
    private readonly callTimeoutMs: number,
    /** The model as the worker's llama.cpp loaded it. */
    readonly info: NativeModelInfo,
  ) {
    this.name = local.name;
    // The local copy holds the vocabulary only (llama.cpp then reports no training context): the worker's model says.
    this.trainContextSize = info.trainContextSize;
  }

  get vocabulary(): LlamaCppVocabulary {
    return this.local.vocabulary;
  }

  static async load(file: string, options: ProcessModelOptions = {}): Promise<ProcessModel> {
    const local = await LlamaCppModel.load(file, { vocabularyOnly: true, threads: 1 });
    const { callTimeoutMs, loadTimeoutMs, ...loadOptions } = options;
    const label = options.rpcServers ? `the target on RPC servers ${options.rpcServers.join(",")}` : `the model ${local.name}`;
    const worker = WorkerConnection.start(label, workerErrors(options.rpcServers !== undefined));
    try {
      const info = await worker.call("load", { file: path.resolve(file), options: loadOptions }, loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS);
      return new ProcessModel(local, worker, callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS, info);
    } catch (e) {
      worker.close();
      local.dispose();
      throw e;
    }
  }

  async createSession(options: SessionOptions = {}): Promise<ModelSession> {
    const info = await this.worker.call("createSession", { options }, this.callTimeoutMs);
    const session = new ProcessSession(this.worker, info, this.vocabulary, this.callTimeoutMs, () => this.sessions.delete(session));
    this.sessions.add(session);
    return session;
  }

  dispose(): void {
    for (const s of [...this.sessions]) s.dispose();
    this.worker.close();
    this.local.dispose();
  }
}
