// Builds the native llama.cpp binding: checks out the headers of the exact
// llama.cpp release that node-llama-cpp ships (from its offline git bundle),
// then compiles native/*.cc with node-gyp against the prebuilt shared
// libraries. No network is used. (scripts/buildLlama.mjs builds the same
// binding against llama.cpp built from that source, for RPC and CUDA.)
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { llamaBundle, llamaSourceDir } from "./llamaPaths.mjs";
import { nodeGypRebuild } from "./nodeGyp.mjs";
import { requireTools } from "./requireTools.mjs";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..");

const headers = path.join(llamaSourceDir, "include", "llama.h");

function checkoutHeaders() {
  if (existsSync(headers)) return;
  execFileSync("git", ["clone", "--quiet", "--no-checkout", llamaBundle(), llamaSourceDir], { stdio: "inherit" });
  execFileSync("git", ["-c", "advice.detachedHead=false", "checkout", "--quiet", "HEAD", "--", "include", "ggml/include"], {
    cwd: llamaSourceDir,
    stdio: "inherit",
  });
}

// node-gyp runs gyp (Python), then make and g++.
requireTools(...(existsSync(headers) ? [] : ["git"]), "python3", "make", "g++");
checkoutHeaders();
nodeGypRebuild(root);
