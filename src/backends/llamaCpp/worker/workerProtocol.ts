/** The messages between a model's owner and the worker process that runs the model (plain records, structured-cloned). */

import type { BatchToken, EvaluateOptions, SessionOptions } from "../../../model/session.js";
import type { CacheEdit } from "../../cacheEdits.js";
import type { LlamaCppLoadOptions } from "../llamaCppModel.js";
import type { NativeBuildInfo, NativeDevice, NativeModelInfo } from "../native.js";

export interface WorkerSessionInfo {
  session: number;
  contextSize: number;
  maxSequences: number;
  batchSize: number;
}

/** Each call and what it answers. */
export interface WorkerCalls {
  load: { call: { file: string; options: LlamaCppLoadOptions }; result: NativeModelInfo };
  /** The worker's llama.cpp and its devices, after registering the given RPC servers. */
  devices: { call: { rpcServers: string[]; connectTimeoutMs: number }; result: { build: NativeBuildInfo; devices: NativeDevice[] } };
  createSession: { call: { options: SessionOptions }; result: WorkerSessionInfo };
  /** Applies the queued cache edits in order, then evaluates; the rows come back packed, row after row. */
  evaluate: { call: { session: number; edits: CacheEdit[]; batch: BatchToken[]; options?: EvaluateOptions }; result: { count: number; logits: Float32Array } };
  disposeSession: { call: { session: number }; result: null };
}

export type WorkerCallKind = keyof WorkerCalls;
export type WorkerRequest = { [K in WorkerCallKind]: { id: number; kind: K } & WorkerCalls[K]["call"] }[WorkerCallKind];
export type WorkerReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: { name: string; message: string } };
