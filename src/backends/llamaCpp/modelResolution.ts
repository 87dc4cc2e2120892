/**
 * Model references: a local GGUF path, or a remote reference that
 * node-llama-cpp's resolver downloads where there is internet
 * ("hf:<user>/<repo>/<file>.gguf" or an https URL).
 */
/** Whether a reference names a remote model rather than a local file. */
export function isRemoteReference(reference: string): boolean {
  return /^(hf:|huggingface:|https?:\/\/)/.test(reference);
}

/** A local path for the reference: local paths unchanged, remote ones downloaded (once) into `directory`. */
export async function resolveModelReference(reference: string, directory?: string): Promise<string> {
  if (!isRemoteReference(reference)) return reference;
  // node-llama-cpp loads only for downloads (a GPU machine may carry verispec without it).
  const { resolveModelFile } = await import("node-llama-cpp");
  return resolveModelFile(reference, { directory, cli: false });
}
