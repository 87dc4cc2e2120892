/**
 * Deterministic random-weight llama models for tests and benchmarks: a target
 * and a drafter that is the target's first layers (same embeddings and output
 * head), so the pair agrees often enough to exercise acceptance.
 */
import { Random } from "../util/random.js";
import { type BpeVocabulary, randomBpeVocabulary } from "./byteLevelBpe.js";
import { GgmlType } from "./ggufTypes.js";
import { type LlamaConfig, llamaTensorShapes, writeLlamaGguf } from "./llamaGguf.js";
import type { RopeScaling } from "./ropeScaling.js";

export interface RandomLlamaOptions {
  seed: number;
  vocabSize: number;
  embeddingSize: number;
  layers: number;
  heads: number;
  feedForwardSize: number;
  contextLength: number;
  /** Tensor type of matrices; float32 by default. */
  type?: GgmlType;
  /** A vocabulary of vocabSize tokens (a real tokenizer's); a random one from the seed by default. */
  vocabulary?: BpeVocabulary;
  /** Rotary base frequency; 10,000 by default (Llama-3.1's is 500,000). */
  ropeBase?: number;
  /** Long-context RoPE scaling (LLAMA_3_1_ROPE_SCALING, or YaRN); none by default. */
  ropeScaling?: RopeScaling;
}

/** Target logits get roughly this standard deviation, so distributions are peaked rather than flat. */
const OUTPUT_LOGIT_STD = 3;
/** Scale of layer weights relative to 1/sqrt(fan-in): layers change the residual stream, but gently. */
const LAYER_WEIGHT_SCALE = 0.7;

function uniform(rng: Random, count: number, std: number): Float32Array {
  const out = new Float32Array(count);
  const a = std * Math.sqrt(3);
  for (let i = 0; i < count; i++) out[i] = (rng.next() * 2 - 1) * a;
  return out;
}

function weightStd(name: string, shape: readonly number[]): number {
  if (name === "token_embd.weight") return 1;
  if (name === "output.weight") return OUTPUT_LOGIT_STD / Math.sqrt(shape[0]);
  return LAYER_WEIGHT_SCALE / Math.sqrt(shape[0]);
}

export function randomLlamaConfig(o: RandomLlamaOptions, name: string, layers = o.layers): LlamaConfig {
  return {
    name,
    vocabSize: o.vocabSize,
    embeddingSize: o.embeddingSize,
    layers,
    heads: o.heads,
    kvHeads: o.heads,
    feedForwardSize: o.feedForwardSize,
    contextLength: o.contextLength,
    ropeBase: o.ropeBase ?? 10000,
    rmsEpsilon: 1e-5,
    ropeScaling: o.ropeScaling,
  };
}

/** Random weights for every tensor of the config, from the seed (norm weights are 1). */
export function randomLlamaWeights(config: LlamaConfig, seed: number): Map<string, Float32Array> {
  const rng = new Random(seed);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of llamaTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    weights.set(name, shape.length === 1 ? new Float32Array(count).fill(1) : uniform(rng, count, weightStd(name, shape)));
  }
  return weights;
}

/** Writes a random target model, and optionally a drafter made of its first `drafterLayers` layers. */
export function writeRandomLlamaPair(o: RandomLlamaOptions, targetPath: string, drafterPath?: string, drafterLayers = 1): void {
  const vocab = o.vocabulary ?? randomBpeVocabulary(o.vocabSize, o.seed);
  const target = randomLlamaConfig(o, `verispec-random-${o.seed}`);
  const weights = randomLlamaWeights(target, o.seed + 1);
  const type = o.type ?? GgmlType.F32;
  writeLlamaGguf(targetPath, target, vocab, weights, type);
  if (!drafterPath) return;
  const drafter = randomLlamaConfig(o, `verispec-random-${o.seed}-draft`, drafterLayers);
  const kept = new Map([...weights].filter(([name]) => llamaTensorShapes(drafter).has(name)));
  writeLlamaGguf(drafterPath, drafter, vocab, kept, type);
}
