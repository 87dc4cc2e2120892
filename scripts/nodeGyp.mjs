// Runs node-gyp offline with Node's own headers (never downloaded), in a given folder.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

function nodeGypScript() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  const npmDir = path.dirname(path.dirname(process.execPath));
  return path.join(npmDir, "lib", "node_modules", "npm", "node_modules", "node-gyp", "bin", "node-gyp.js");
}

/** Node's own headers, installed beside the binary. */
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.dirname(path.dirname(process.execPath));
  return existsSync(path.join(prefix, "include", "node", "node_api.h")) ? prefix : undefined;
}

/** `node-gyp rebuild` in `cwd` (which holds a binding.gyp). */
export function nodeGypRebuild(cwd) {
  const dir = nodeDir();
  const args = [nodeGypScript(), "rebuild", ...(dir ? [`--nodedir=${dir}`] : [])];
  execFileSync(process.execPath, args, { cwd, stdio: "inherit" });
}
