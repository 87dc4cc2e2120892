/**
 * What llama.cpp's own EAGLE-3 drafting proposes first after a prompt: `llama-speculative-simple --spec-type
 * draft-eagle3 -lv 5` logs, for each draft position, its top 3 candidates with p (softmax over the head's top 10
 * logits, its draft sampler's top-k 10). Its target prefills the prompt but its last token, so the first block is
 * drafted from the pair (last prompt token, feature of the token before it).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { packageRoot } from "../../src/util/packageRoot.js";

export const SPECULATIVE_SIMPLE = path.join(packageRoot(), "native", ".llama-build", "cpu", "bin", "llama-speculative-simple");

/** One draft position: its top candidates, most likely first, each [token, p]. */
export type DraftCandidates = [number, number][];

export function haveSpeculativeSimple(): boolean {
  return existsSync(SPECULATIVE_SIMPLE);
}

/** llama.cpp's first k draft positions for this prompt (greedy target, one thread). */
export function llamaCppFirstDrafts(target: string, head: string, prompt: string, k: number): DraftCandidates[] {
  const args = ["-m", target, "-md", head, "--spec-type", "draft-eagle3", "-p", prompt, "-n", "2", "--temp", "0", "-t", "1", "-lv", "5"];
  const run = spawnSync(SPECULATIVE_SIMPLE, [...args, "--spec-draft-n-max", String(k)], { encoding: "utf8" });
  if (run.error) throw new Error(`${SPECULATIVE_SIMPLE} did not run (${run.error.message}): npm run build:llama -- --backend cpu --tools`);
  if (run.status !== 0) throw new Error(`llama-speculative-simple failed: ${run.stderr.split("\n").slice(-3).join(" ")}`);
  const log = run.stdout + run.stderr; // its log goes to stderr
  const positions: DraftCandidates[] = [];
  // "draft:  - seq_id 0, draft candidate   1, pos   2:    461 (   0.242) 'from'": the first block's lines come first.
  for (const m of log.matchAll(/draft candidate +(\d+), pos +(\d+): +(\d+) \( *([\d.]+)\)/g)) {
    const [candidate, pos, token, p] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
    if (pos === 0 && candidate === 0 && positions.length === k) break;
    positions[pos] ??= [];
    positions[pos][candidate] = [token, p];
  }
  return positions.slice(0, k);
}

/** The prompts the head is checked on: code, a call, and a docstring start. */
export const HEAD_PROMPTS = ["import numpy as np", "def add(a, b):", 'class Config:\n    """'];

/**
 * `node dist/test/helpers/eagleReference.js <target> <head> <k>` prints llama.cpp's first drafts for HEAD_PROMPTS as
 * JSON. Only with its three arguments: the test runner loads the files under test/ too, without them.
 */
const asCommand = process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname);
if (asCommand && process.argv.length === 5) {
  const [target, head, k] = process.argv.slice(2);
  const drafts = HEAD_PROMPTS.map((prompt) => ({ prompt, positions: llamaCppFirstDrafts(target, head, prompt, Number(k)) }));
  console.log(JSON.stringify(drafts));
}
