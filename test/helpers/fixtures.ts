/**
 * Test models the project makes itself: tiny random llama GGUF files written
 * deterministically from a seed into a temporary folder, once per process.
 */
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before } from "node:test";
import { LlamaCppModel } from "../../src/backends/llamaCpp/llamaCppModel.js";
import { type RandomLlamaOptions, writeRandomLlamaPair } from "../../src/gguf/randomLlama.js";
import { LLAMA_3_1_ROPE_SCALING } from "../../src/gguf/ropeScaling.js";

/**
 * The small fixture: 512-token vocabulary, 64 wide, 2 layers; the drafter is its first layer.
 * Large enough that llama.cpp exercises its real kernels, small enough that a decode takes well under a millisecond.
 */
export const TINY: RandomLlamaOptions = { seed: 7, vocabSize: 512, embeddingSize: 64, layers: 2, heads: 4, feedForwardSize: 128, contextLength: 512 };

/**
 * TINY as Llama-3.1 describes its context: 131,072 training positions, rope base 500,000 and its RoPE scaling
 * (the rope_freqs tensor of per-frequency factors).
 */
export const LONG_LLAMA_3_1: RandomLlamaOptions = { ...TINY, contextLength: 131_072, ropeBase: 500_000, ropeScaling: LLAMA_3_1_ROPE_SCALING };

/** TINY with a YaRN-scaled 131,072-token context from 32,768 (Qwen2.5's long-context settings). */
export const LONG_YARN: RandomLlamaOptions = {
  ...TINY,
  contextLength: 131_072,
  ropeBase: 1_000_000,
  ropeScaling: { kind: "yarn", factor: 4, originalContextLength: 32_768 },
};

export const fixtureDir = path.join(os.tmpdir(), `verispec-fixtures-${process.pid}`);

/** Paths of the fixture target and drafter for these options, written on first use. */
export function fixturePair(o: RandomLlamaOptions = TINY): { target: string; draft: string } {
  mkdirSync(fixtureDir, { recursive: true });
  const rope = o.ropeScaling ? `-${o.ropeScaling.kind}` : "";
  const base = path.join(fixtureDir, `random-${o.seed}-${o.vocabSize}-${o.embeddingSize}-${o.layers}-${o.contextLength}${rope}`);
  const pair = { target: `${base}-target.gguf`, draft: `${base}-draft.gguf` };
  if (!existsSync(pair.draft)) writeRandomLlamaPair(o, pair.target, pair.draft);
  return pair;
}

/** The fixture pair loaded with one thread. */
export async function loadFixturePair(o: RandomLlamaOptions = TINY): Promise<{ target: LlamaCppModel; draft: LlamaCppModel }> {
  const p = fixturePair(o);
  return { target: await LlamaCppModel.load(p.target, { threads: 1 }), draft: await LlamaCppModel.load(p.draft, { threads: 1 }) };
}

/** The fixture pair, loaded before the tests of the enclosing file or suite and freed after them. */
export function useFixturePair(): { target: LlamaCppModel; draft: LlamaCppModel } {
  const pair = {} as { target: LlamaCppModel; draft: LlamaCppModel };
  before(async () => {
    Object.assign(pair, await loadFixturePair());
  });
  after(() => {
    pair.target.dispose();
    pair.draft.dispose();
  });
  return pair;
}

/** Deterministic prompts for the fixtures: lowercase words. */
export function fixturePrompts(count: number, seed = 1): string[] {
  const words = ["the", "cat", "sat", "on", "a", "mat", "while", "dogs", "ran", "far", "away", "from", "home", "def", "return", "value"];
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 8;
  };
  return Array.from({ length: count }, () => Array.from({ length: 2 + (next() % 6) }, () => words[next() % words.length]).join(" "));
}
