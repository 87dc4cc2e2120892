// Builds llama.cpp in full from the source bundled with node-llama-cpp (the same release as its prebuilt
// libraries), then verispec's binding against that build:
//   node scripts/buildLlama.mjs [--backend cpu|cuda] [--cuda-arch 90] [--tools] [--jobs N]
// cuda: CUDA for the given architecture (node-llama-cpp's CUDA package only JIT-compiles PTX for Hopper).
// cpu: for this machine's CPU. --tools also builds llama.cpp's llama-simple, llama-speculative-simple and
// llama-bench, the benchmark peers. Everything lands in native/.llama-build/<backend>/ (git-ignored); a second
// run only rebuilds what changed. The binding built here (native/.llama-build/<backend>/addon/build/Release) is
// the one loaded when VERISPEC_LLAMA_BUILD=<backend> (src/backends/llamaCpp/native.ts).
import { copyFileSync, existsSync, mkdirSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { buildRoot, cmakeBuild, root } from "./llamaSource.mjs";
import { nodeGypRebuild } from "./nodeGyp.mjs";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "cpu" },
    "cuda-arch": { type: "string", default: "90" },
    tools: { type: "boolean", default: false },
    jobs: { type: "string", default: String(os.availableParallelism()) },
  },
});

const backendOptions = {
  cpu: ["-DGGML_NATIVE=ON"],
  cuda: ["-DGGML_NATIVE=OFF", "-DGGML_CUDA=ON", `-DCMAKE_CUDA_ARCHITECTURES=${values["cuda-arch"]}`],
};
if (!(values.backend in backendOptions)) throw new Error(`--backend must be one of ${Object.keys(backendOptions).join(", ")}`);
const buildDir = path.join(buildRoot, values.backend);

/** node-gyp builds in the folder of its binding.gyp, so the addon gets a folder that links to the sources. */
function buildAddon() {
  const addonDir = path.join(buildDir, "addon");
  mkdirSync(addonDir, { recursive: true });
  for (const name of ["native", "scripts"]) {
    const link = path.join(addonDir, name);
    if (!existsSync(link)) symlinkSync(path.join(root, name), link);
  }
  copyFileSync(path.join(root, "binding.gyp"), path.join(addonDir, "binding.gyp"));
  nodeGypRebuild(addonDir, { VERISPEC_LLAMA_LIB_DIR: path.join(buildDir, "bin") });
}

// Backends linked in (no modules to find at run time); OpenMP off, since the binding gives each context a
// thread pool that sleeps between graphs and OpenMP's workers would spin.
const options = ["-DGGML_BACKEND_DL=OFF", "-DGGML_OPENMP=OFF", ...backendOptions[values.backend]];
const tools = values.tools ? ["llama-simple", "llama-speculative-simple", "llama-bench"] : [];
cmakeBuild(buildDir, options, ["llama", "ggml-rpc-server", ...tools], values.jobs);
buildAddon();
console.log(`llama.cpp (${values.backend}) and the binding are built in ${path.relative(root, buildDir)}`);
