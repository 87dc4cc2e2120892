// Builds the native llama.cpp binding: checks out the headers of the exact
// llama.cpp release that node-llama-cpp ships (from its offline git bundle),
// then compiles native/verispec_llama.cc with node-gyp against the prebuilt
// shared libraries. No network is used.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { llamaBundle, llamaSourceDir } from "./llamaPaths.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

function checkoutHeaders() {
  if (existsSync(path.join(llamaSourceDir, "include", "llama.h"))) return;
  execFileSync("git", ["clone", "--quiet", "--no-checkout", llamaBundle(), llamaSourceDir], { stdio: "inherit" });
  execFileSync("git", ["-c", "advice.detachedHead=false", "checkout", "--quiet", "HEAD", "--", "include", "ggml/include"], {
    cwd: llamaSourceDir,
    stdio: "inherit",
  });
}

function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = path.dirname(path.dirname(process.execPath));
  return path.join(npmDir, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
}

/** Node's own headers, installed beside the binary; node-gyp must not download them. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : undefined;
}

checkoutHeaders();
const dir = nodeDir();
const args = [nodeGyp(), "rebuild", ...(dir ? [`--nodedir=${dir}`] : [])];
execFileSync(process.execPath, args, { cwd: root, stdio: "inherit" });
