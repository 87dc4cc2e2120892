/** Opens a GGUF model from a path or remote reference; a model on RPC servers runs in a worker process. */
import { LlamaCppModel } from "./llamaCppModel.js";
import { resolveModelReference } from "./modelResolution.js";
import { ProcessModel, type ProcessModelOptions } from "./worker/processModel.js";

export async function openLlamaCppModel(
  reference: string,
  options: ProcessModelOptions & { downloadDirectory?: string } = {},
): Promise<LlamaCppModel | ProcessModel> {
  const file = await resolveModelReference(reference, options.downloadDirectory);
  return options.rpcServers ? ProcessModel.load(file, options) : LlamaCppModel.load(file, options);
}
