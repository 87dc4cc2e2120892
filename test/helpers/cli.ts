/** Runs the real verispec CLI in a child process. */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { packageRoot } from "../../src/util/packageRoot.js";

export const CLI = path.join(packageRoot(), "dist", "src", "cli", "main.js");
const TEST_CACHE = mkdtempSync(path.join(tmpdir(), "verispec-cache-"));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `verispec args...`; `onStderr` sees stderr as it arrives and gets the child to signal it; `extraEnv` adds to its environment. */
export function runCli(
  args: string[],
  onStderr?: (text: string, child: ReturnType<typeof spawn>) => void,
  extraEnv: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    // Adaptive measurements kept between runs go to a folder of this test process, never the user's cache.
    const env = { ...process.env, VERISPEC_CACHE_DIR: process.env.VERISPEC_CACHE_DIR ?? TEST_CACHE, ...extraEnv };
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      onStderr?.(stderr, child);
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
