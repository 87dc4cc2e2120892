// Where the llama.cpp pieces that the native binding builds against live.
// Usage: node scripts/llamaPaths.mjs include|ggml-include|lib|source|bundle
import { existsSync } from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

/** The folder of an installed package, searched from the project root upwards. */
function packageDir(name) {
  for (let dir = root; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (existsSync(path.join(candidate, "package.json"))) return candidate;
    if (path.dirname(dir) === dir) throw new Error(`package ${name} is not installed; run npm ci`);
  }
}

/** The prebuilt llama.cpp shared libraries of node-llama-cpp's platform package. */
export function llamaLibDir() {
  const pkg = `@node-llama-cpp/${process.platform}-${process.arch}`;
  return path.join(packageDir(pkg), "bins", `${process.platform}-${process.arch}`);
}

/** The git bundle of the matching llama.cpp source release. */
export function llamaBundle() {
  return path.join(packageDir("node-llama-cpp"), "llama", "gitRelease.bundle");
}

/** Where the bundle is checked out (headers only are used). */
export const llamaSourceDir = path.join(root, "native", ".llama.cpp");

const what = process.argv[2];
if (what) {
  const answers = {
    include: () => path.join(llamaSourceDir, "include"),
    "ggml-include": () => path.join(llamaSourceDir, "ggml", "include"),
    lib: llamaLibDir,
    source: () => llamaSourceDir,
    bundle: llamaBundle,
  };
  if (!(what in answers)) throw new Error(`unknown path kind ${what}`);
  process.stdout.write(answers[what]());
}
