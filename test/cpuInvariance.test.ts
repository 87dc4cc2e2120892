/**
 * `--batch-invariant` on the CPU (verispec's build of llama.cpp, scripts/llamaPatches/cpu.mjs), as users meet it:
 * `verispec serve` in a child process with 8 slots, 8 requests at once through the official `openai` client, each
 * against `verispec generate --target-only` with the same settings. Greedy, and seeded sampling at T = 0.8 (the
 * coupled rule), every request gets the target alone's text, whatever policy and drafter it asks for. Without the
 * patch, ggml-cpu's attention gives a request in a pass of 8 slots logits ~0.1 away from its logits alone (tiled for
 * 64 rows or more, split across threads for one row over 512 cells or more), and sampled text diverges.
 *
 * It needs native/.llama-build/cpu (npm run build:llama -- --backend cpu, which `npm test` runs): without it the
 * test is skipped with a notice, unless CI is set, where that fails.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { packageRoot } from "../src/util/packageRoot.js";
import { EVERY_POLICY_AND_DRAFTER } from "./helpers/asks.js";
import { runCli } from "./helpers/cli.js";

const BUILD = path.join(packageRoot(), "native", ".llama-build", "cpu", "verispec_llama.node");
const ENV = { VERISPEC_LLAMA_BUILD: "cpu" };
const PROMPTS = ["def fibonacci(n):", "import os\n\n\ndef main():", "class Stack:\n    def __init__(self):", "for i in range(10):"];
const ASKS = EVERY_POLICY_AND_DRAFTER;

const missing = !existsSync(BUILD);
if (missing && !process.env.CI) console.log("# notice: skipping the CPU batch-invariance test: run `npm run build:llama -- --backend cpu` first");

/** `generate --target-only` in its own process with the same build and kernels: the text each request must get. */
async function targetAlone(prompt: string, temperature: number): Promise<string> {
  const args = ["generate", "--target-only", "--batch-invariant", "--threads", "2", "--max-tokens", "48", "--temperature", String(temperature), "--seed", "42"];
  const r = await runCli([...args, "--json", "--prompt", prompt], undefined, ENV);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).text;
}

describe("CPU batch invariance through verispec serve", { skip: missing && !process.env.CI }, () => {
  let child: ChildProcess | undefined;
  let client: OpenAI;
  let closed: Promise<unknown>;

  before(async () => {
    assert.ok(!missing, `CI needs ${path.relative(packageRoot(), BUILD)} (npm run build:llama -- --backend cpu)`);
    const url = await new Promise<string>((resolve, reject) => {
      const args = ["serve", "--batch-invariant", "--parallel", "8", "--threads", "2", "--port", "0", "--context", "256", "--policy", "adaptive"];
      closed = runCli(
        args,
        (text, c) => {
          child = c;
          const m = text.match(/listening on (http:\/\/\S+)/);
          if (m) resolve(m[1]);
        },
        ENV,
      ).then((r) => reject(new Error(`serve ended: ${r.stderr}`)));
    });
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: "none", maxRetries: 0 });
    // Ready when /health says so (the models load after the port opens).
    for (let i = 0; i < 100 && (await fetch(`${url}/health`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
  });

  after(async () => {
    child?.kill("SIGTERM");
    await closed?.catch(() => undefined);
  });

  for (const temperature of [0, 0.8]) {
    test(`8 requests at once, T = ${temperature}: each gets the target alone's text`, async () => {
      const prompts = ASKS.map((_, i) => PROMPTS[i % PROMPTS.length]);
      const expected = new Map<string, string>();
      for (const p of new Set(prompts)) expected.set(p, await targetAlone(p, temperature));
      const texts = await Promise.all(
        ASKS.map(async (ask, i) => {
          const body = { model: "verispec-target", prompt: prompts[i], max_tokens: 48, temperature, seed: 42, verispec: ask };
          // biome-ignore lint/suspicious/noExplicitAny: the verispec extension is not in the client's types.
          return (await client.completions.create(body as any)).choices[0].text;
        }),
      );
      for (const [i, text] of texts.entries()) assert.equal(text, expected.get(prompts[i]), `request ${i}: ${JSON.stringify(ASKS[i])}`);
    });
  }
});
