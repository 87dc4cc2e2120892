/** The model pair shipped under models/, used when no --target/--draft is given, and the EAGLE-3 head (--draft eagle). */
import path from "node:path";
import { packageRoot } from "./packageRoot.js";

export function embeddedModelPaths(): { target: string; draft: string; head: string } {
  const dir = path.join(packageRoot(), "models");
  return { target: path.join(dir, "verispec-target.gguf"), draft: path.join(dir, "verispec-draft.gguf"), head: path.join(dir, "verispec-eagle3.gguf") };
}
