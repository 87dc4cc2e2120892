// Builds what llama.cpp needs to run a model across machines and node-llama-cpp's prebuilt libraries lack:
// the RPC backend module (libggml-rpc.so) and ggml-rpc-server, from the bundled source of the same release
// (about 1 minute on 2 cores). Both run on the prebuilt ggml: native/.llama-build/rpc/runtime/ holds them
// beside links to the prebuilt libraries under the sonames they ask for, so one copy of ggml is loaded
// (and the server computes with the prebuilt CPU variants chosen for this CPU).
//   node scripts/buildRpc.mjs [--jobs N]        (npm run build:rpc)
import { copyFileSync, mkdirSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { llamaLibDir, llamaLibraries } from "./llamaPaths.mjs";
import { buildRoot, cmakeBuild } from "./llamaSource.mjs";
import { requireTools } from "./requireTools.mjs";

const { values } = parseArgs({ options: { jobs: { type: "string", default: String(os.availableParallelism()) } } });
requireTools("git", "cmake", "ninja", "g++");
const buildDir = path.join(buildRoot, "rpc");
const runtimeDir = path.join(buildDir, "runtime");

// Backends as loadable modules, no CPU backend of its own (the prebuilt variants serve), libraries found beside each other.
const options = ["-DGGML_BACKEND_DL=ON", "-DGGML_NATIVE=OFF", "-DGGML_CPU=OFF", "-DCMAKE_BUILD_RPATH_USE_ORIGIN=ON", "-DLLAMA_BUILD_EXAMPLES=OFF"];
cmakeBuild(buildDir, options, ["ggml-rpc", "ggml-rpc-server"], values.jobs);

rmSync(runtimeDir, { recursive: true, force: true });
mkdirSync(runtimeDir, { recursive: true });
for (const file of ["libggml-rpc.so", "ggml-rpc-server"]) copyFileSync(path.join(buildDir, "bin", file), path.join(runtimeDir, file));
const [, ggml, ggmlBase] = llamaLibraries();
const links = { "libggml.so.0": ggml, "libggml-base.so.0": ggmlBase, "libggml-base.so": ggmlBase };
for (const cpu of readdirSync(llamaLibDir()).filter((f) => f.startsWith("libggml-cpu-"))) links[cpu] = path.join(llamaLibDir(), cpu);
for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(runtimeDir, name));
console.log(`RPC backend and ggml-rpc-server are in ${path.relative(process.cwd(), runtimeDir)}`);
