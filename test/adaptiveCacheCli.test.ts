/** `verispec generate` keeps adaptive's measurements between runs (the embedded models), only adaptive's, unless told not to. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { runCli } from "./helpers/cli.js";

test("verispec generate keeps adaptive's measurements, and only adaptive's, unless told not to", async () => {
  const root = mkdtempSync(join(tmpdir(), "verispec-cache-cli-"));
  const generate = async (dir: string, ...args: string[]) => {
    const saved = process.env.VERISPEC_CACHE_DIR;
    process.env.VERISPEC_CACHE_DIR = join(root, dir);
    try {
      const r = await runCli(["generate", "--threads", "1", "--max-tokens", "8", "--json", ...args]);
      assert.equal(r.code, 0, r.stderr);
    } finally {
      if (saved === undefined) delete process.env.VERISPEC_CACHE_DIR;
      else process.env.VERISPEC_CACHE_DIR = saved;
    }
  };
  await generate("adaptive", "--policy", "adaptive");
  assert.equal(readdirSync(join(root, "adaptive", "adaptive")).length, 1);
  await generate("off", "--policy", "adaptive", "--no-adaptive-cache");
  await generate("chain", "--policy", "chain");
  assert.ok(!existsSync(join(root, "off")) && !existsSync(join(root, "chain")));
});
