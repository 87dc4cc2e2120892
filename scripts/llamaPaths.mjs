// Where the llama.cpp pieces that the native binding builds against live.
// Usage: node scripts/llamaPaths.mjs include|ggml-include|lib|libs|source|bundle
// By default the binding links node-llama-cpp's prebuilt libraries; with VERISPEC_LLAMA_LIB_DIR set (by
// scripts/buildLlama.mjs) it links a set built from the bundled source instead (RPC, CUDA).
import { existsSync, readdirSync } from "node:fs";
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

/** The llama.cpp shared libraries to link: a self-built set, or node-llama-cpp's prebuilt platform package. */
export function llamaLibDir() {
  if (process.env.VERISPEC_LLAMA_LIB_DIR) return path.resolve(process.env.VERISPEC_LLAMA_LIB_DIR);
  const pkg = `@node-llama-cpp/${process.platform}-${process.arch}`;
  return path.join(packageDir(pkg), "bins", `${process.platform}-${process.arch}`);
}

/** The three libraries the binding links (their names differ: the prebuilt set carries versions in them). */
export function llamaLibraries() {
  const dir = llamaLibDir();
  const files = readdirSync(dir);
  return ["llama", "ggml", "ggml-base"].map((name) => {
    const pattern = new RegExp(`^lib${name}(\\.v[\\d.]+)?\\.so$`);
    const file = files.find((f) => pattern.test(f));
    if (!file) throw new Error(`no lib${name}.so in ${dir}`);
    return path.join(dir, file);
  });
}

/** The git bundle of the matching llama.cpp source release. */
export function llamaBundle() {
  return path.join(packageDir("node-llama-cpp"), "llama", "gitRelease.bundle");
}

/** Where the bundle's headers are checked out for the binding. */
export const llamaSourceDir = path.join(root, "native", ".llama.cpp");

// Run as a program (binding.gyp asks it for paths), not when imported by the build scripts.
const what = process.argv[1] && path.resolve(process.argv[1]) === new URL(import.meta.url).pathname ? process.argv[2] : undefined;
if (what) {
  const answers = {
    include: () => path.join(llamaSourceDir, "include"),
    "ggml-include": () => path.join(llamaSourceDir, "ggml", "include"),
    lib: llamaLibDir,
    libs: () => [...llamaLibraries(), `-Wl,-rpath,${llamaLibDir()}`].join(" "),
    source: () => llamaSourceDir,
    bundle: llamaBundle,
  };
  if (!(what in answers)) throw new Error(`unknown path kind ${what}`);
  process.stdout.write(answers[what]());
}
