/** The model pair shipped under models/, used when no --target/--draft is given. */
import path from "node:path";
import { packageRoot } from "./packageRoot.js";

export function embeddedModelPaths(): { target: string; draft: string } {
  const dir = path.join(packageRoot(), "models");
  return { target: path.join(dir, "verispec-target.gguf"), draft: path.join(dir, "verispec-draft.gguf") };
}
