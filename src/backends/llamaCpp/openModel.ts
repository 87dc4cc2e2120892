/** Opens a GGUF model from a path or remote reference. */
import { type LlamaCppLoadOptions, LlamaCppModel } from "./llamaCppModel.js";
import { resolveModelReference } from "./modelResolution.js";

export async function openLlamaCppModel(reference: string, options: LlamaCppLoadOptions & { downloadDirectory?: string } = {}): Promise<LlamaCppModel> {
  return LlamaCppModel.load(await resolveModelReference(reference, options.downloadDirectory), options);
}
