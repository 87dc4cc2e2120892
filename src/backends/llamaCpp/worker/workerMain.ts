/** The worker process: owns one llama.cpp model (on RPC servers, say) and answers its owner's calls in order. */

import type { ModelSession } from "../../../model/session.js";
import { applyCacheEdit } from "../../cacheEdits.js";
import { LlamaCppModel } from "../llamaCppModel.js";
import { nativeBinding } from "../native.js";
import { rpcDevices } from "../rpc/rpcDevices.js";
import type { WorkerCalls, WorkerReply, WorkerRequest } from "./workerProtocol.js";

let model: LlamaCppModel | undefined;
const sessions = new Map<number, ModelSession>();
let nextSession = 0;

function loaded(): LlamaCppModel {
  if (!model) throw new Error("the worker has no model loaded");
  return model;
}

function session(id: number): ModelSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`the worker has no session ${id}`);
  return s;
}

type Handlers = { [K in keyof WorkerCalls]: (call: WorkerCalls[K]["call"]) => Promise<WorkerCalls[K]["result"]> };

const handlers: Handlers = {
  async load({ file, options }) {
    if (model) throw new Error("the worker already holds a model");
    model = await LlamaCppModel.load(file, options);
    return model.info;
  },
  async devices({ rpcServers, connectTimeoutMs }) {
    const native = nativeBinding();
    await rpcDevices(native, rpcServers, connectTimeoutMs);
    return { build: native.buildInfo(), devices: native.devices() };
  },
  async createSession({ options }) {
    const s = await loaded().createSession(options);
    const id = nextSession++;
    sessions.set(id, s);
    return { session: id, contextSize: s.contextSize, maxSequences: s.maxSequences, batchSize: s.batchSize };
  },
  async evaluate({ session: id, edits, batch, options }) {
    const s = session(id);
    for (const edit of edits) applyCacheEdit(s, edit);
    const rows = await s.evaluate(batch, options);
    const logits = new Float32Array(rows.count * rows.vocabSize);
    for (let i = 0; i < rows.count; i++) logits.set(rows.row(i), i * rows.vocabSize);
    return { count: rows.count, logits };
  },
  async disposeSession({ session: id }) {
    sessions.get(id)?.dispose();
    sessions.delete(id);
    return null;
  },
};

async function answer(request: WorkerRequest): Promise<WorkerReply> {
  try {
    const handler = handlers[request.kind] as (call: WorkerRequest) => Promise<unknown>;
    return { id: request.id, ok: true, value: await handler(request) };
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    return { id: request.id, ok: false, error: { name: err.name === "Error" ? err.constructor.name : err.name, message: err.message } };
  }
}

// Calls are answered one after another, in the order they came.
let queue = Promise.resolve();
process.on("message", (request: WorkerRequest) => {
  queue = queue.then(async () => {
    process.send?.(await answer(request));
  });
});
process.on("disconnect", () => process.exit(0));
