/** The API key `serve` wants: from --api-key, --api-key-file or $VERISPEC_API_KEY; an empty one is an error, never "no key". */
import { readFileSync } from "node:fs";

export interface ApiKeyFlags {
  apiKey?: string;
  apiKeyFile?: string;
}

/** Keys are trimmed (a file's final newline, a header's spaces); one left empty would guard nothing. */
function nonEmpty(key: string, where: string): string {
  const trimmed = key.trim();
  if (trimmed === "") throw new Error(`${where} is empty; give a key, or none to serve without one`);
  return trimmed;
}

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read the --api-key-file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** --api-key, else --api-key-file's contents, else $VERISPEC_API_KEY; undefined when none is given. */
export function apiKeyFrom(f: ApiKeyFlags, env: NodeJS.ProcessEnv): string | undefined {
  if (f.apiKey !== undefined && f.apiKeyFile !== undefined) throw new Error("give --api-key or --api-key-file, not both");
  if (f.apiKey !== undefined) return nonEmpty(f.apiKey, "--api-key");
  if (f.apiKeyFile !== undefined) return nonEmpty(readKeyFile(f.apiKeyFile), `the --api-key-file ${f.apiKeyFile}`);
  const fromEnv = env.VERISPEC_API_KEY;
  return fromEnv === undefined ? undefined : nonEmpty(fromEnv, "VERISPEC_API_KEY");
}
