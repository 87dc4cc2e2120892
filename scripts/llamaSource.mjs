// The llama.cpp source bundled with node-llama-cpp, checked out in full, and the cmake settings every build from it shares.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import path from "node:path";
import { applyPatches } from "./llamaPatches.mjs";
import { llamaBundle } from "./llamaPaths.mjs";

export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");
export const sourceDir = path.join(root, "native", ".llama-src");
export const buildRoot = path.join(root, "native", ".llama-build");

export const run = (cmd, args, cwd = root) => execFileSync(cmd, args, { cwd, stdio: "inherit" });

export function checkoutSource() {
  if (existsSync(path.join(sourceDir, "CMakeLists.txt"))) return;
  rmSync(sourceDir, { recursive: true, force: true });
  run("git", ["-c", "advice.detachedHead=false", "clone", "--quiet", llamaBundle(), sourceDir]);
}

/** cmake settings of every build here: shared libraries with the RPC backend, nothing networked, no tests or server. */
export const commonCmakeOptions = [
  "-DCMAKE_BUILD_TYPE=Release",
  "-DBUILD_SHARED_LIBS=ON",
  "-DGGML_RPC=ON",
  "-DLLAMA_CURL=OFF",
  "-DLLAMA_OPENSSL=OFF",
  "-DLLAMA_BUILD_TESTS=OFF",
  "-DLLAMA_BUILD_SERVER=OFF",
  "-DLLAMA_BUILD_APP=OFF",
];

/** Configures (once) and builds the given targets in buildDir. */
export function cmakeBuild(buildDir, options, targets, jobs, reconfigure = false) {
  checkoutSource();
  applyPatches(sourceDir);
  if (reconfigure || !existsSync(path.join(buildDir, "build.ninja")))
    run("cmake", ["-S", sourceDir, "-B", buildDir, "-G", "Ninja", ...commonCmakeOptions, ...options]);
  run("ninja", ["-C", buildDir, "-j", String(jobs), ...targets]);
}
