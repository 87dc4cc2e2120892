// Builds llama.cpp in full from the source bundled with node-llama-cpp (the same release as its prebuilt
// libraries), then verispec's binding against that build:
//   node scripts/buildLlama.mjs [--backend cpu|cuda] [--cuda-arch 90] [--tools] [--server] [--jobs N]
// cuda: CUDA for the given architecture (node-llama-cpp's CUDA package only JIT-compiles PTX for Hopper).
// cpu: for this machine's CPU. --tools also builds llama.cpp's llama-simple, llama-speculative-simple and
// llama-bench, the benchmark peers, and llama-quantize. Every build makes bin/verispec-quantize (native/tools/quantize.cc:
// the same quantization through libllama alone, for scripts/quantizePair.mjs and `npm test`). Everything lands in native/.llama-build/<backend>/ (git-ignored); a second
// run only rebuilds what changed. The binding built here (native/.llama-build/<backend>/verispec_llama.node) is
// the one loaded when VERISPEC_LLAMA_BUILD=<backend> (src/backends/llamaCpp/native.ts). It is compiled with g++
// directly against Node's headers (N-API needs nothing else), so a machine with Node but no npm can build it.
import { existsSync, readdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildRoot, cmakeBuild, root, run, sourceDir } from "./llamaSource.mjs";
import { requireTools } from "./requireTools.mjs";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "cpu" },
    "cuda-arch": { type: "string", default: "90" },
    tools: { type: "boolean", default: false },
    server: { type: "boolean", default: false },
    jobs: { type: "string", default: String(os.availableParallelism()) },
  },
});

const backendOptions = {
  cpu: ["-DGGML_NATIVE=ON"],
  cuda: ["-DGGML_NATIVE=OFF", "-DGGML_CUDA=ON", `-DCMAKE_CUDA_ARCHITECTURES=${values["cuda-arch"]}`],
};
if (!(values.backend in backendOptions)) throw new Error(`--backend must be one of ${Object.keys(backendOptions).join(", ")}`);
const buildDir = path.join(buildRoot, values.backend);
requireTools("git", "cmake", "ninja", "g++");

/** Node's N-API headers: beside the running node binary, or where VERISPEC_NODE_INCLUDE says. */
function nodeInclude() {
  const dir = process.env.VERISPEC_NODE_INCLUDE ?? path.join(path.dirname(path.dirname(process.execPath)), "include", "node");
  if (!existsSync(path.join(dir, "node_api.h"))) throw new Error(`no node_api.h in ${dir}; set VERISPEC_NODE_INCLUDE`);
  return dir;
}

function buildAddon() {
  const bin = path.join(buildDir, "bin");
  const sources = readdirSync(path.join(root, "native"))
    .filter((f) => f.endsWith(".cc"))
    .map((f) => path.join(root, "native", f));
  const includes = [nodeInclude(), path.join(sourceDir, "include"), path.join(sourceDir, "ggml", "include")].map((d) => `-I${d}`);
  const out = path.join(buildDir, "verispec_llama.node");
  // VERISPEC_LLAMA_PATCHES: this llama.cpp carries scripts/llamaPatches.mjs (buildInfo().batchInvariance); VERISPEC_CPU_INVARIANCE:
  // its CPU backend too (llamaPatches/cpu.mjs, buildInfo().cpuInvariance).
  const flags = ["-std=c++17", "-O2", "-fPIC", "-shared", "-fexceptions", "-DVERISPEC_LLAMA_PATCHES", "-DVERISPEC_CPU_INVARIANCE"];
  // The run path is relative to the addon, so the build folder may move (a worktree's link, a copied tree).
  const libs = [`-L${bin}`, "-lllama", "-lggml", "-lggml-base", "-Wl,-rpath,$ORIGIN/bin"];
  run("g++", [...flags, ...includes, ...sources, ...libs, "-o", out]);
}

/** bin/verispec-quantize: llama_model_quantize with llama-quantize's defaults, linked against libllama only. */
function buildQuantizer() {
  const bin = path.join(buildDir, "bin");
  const includes = [path.join(sourceDir, "include"), path.join(sourceDir, "ggml", "include")].map((d) => `-I${d}`);
  const libs = [`-L${bin}`, "-lllama", "-lggml", "-lggml-base", "-Wl,-rpath,$ORIGIN"];
  run("g++", ["-std=c++17", "-O2", ...includes, path.join(root, "native", "tools", "quantize.cc"), ...libs, "-o", path.join(bin, "verispec-quantize")]);
}

// Backends linked in (no modules to find at run time); OpenMP off, since the binding gives each context a
// thread pool that sleeps between graphs and OpenMP's workers would spin.
const options = ["-DGGML_BACKEND_DL=OFF", "-DGGML_OPENMP=OFF", ...backendOptions[values.backend]];
const tools = values.tools ? ["llama-completion", "llama-simple", "llama-speculative-simple", "llama-bench", "llama-quantize"] : [];
// llama-server as a serving peer: its web UI is not built (no network to fetch or build it).
const server = values.server ? ["-DLLAMA_BUILD_SERVER=ON", "-DLLAMA_USE_PREBUILT_UI=OFF", "-DLLAMA_BUILD_UI=OFF"] : [];
cmakeBuild(buildDir, [...options, ...server], ["llama", "ggml-rpc-server", ...tools, ...(values.server ? ["llama-server"] : [])], values.jobs, values.server);
buildAddon();
buildQuantizer();
console.log(`llama.cpp (${values.backend}) and the binding are built in ${path.relative(root, buildDir)}`);
