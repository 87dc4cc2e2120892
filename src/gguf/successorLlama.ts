/**
 * Llama models whose greedy next token is a chosen function of the current token alone, for tests that need a
 * model to say given tokens (an end-of-generation token, say) with any vocabulary. Attention and feed-forward
 * blocks write nothing (zero attn_output and ffn_down), so the residual stream reaching the output is the current
 * token's embedding. Each token the table maps from gets a dimension of its own, its embedding the unit vector
 * there; every other token has dimension 0's. A token's output row holds `margin` on the dimensions of the tokens
 * that lead to it. RMS norm makes a unit vector sqrt(width) long along its dimension, so the successor's logit is
 * margin * sqrt(width) (about 23 here) and every other logit is 0: greedy decoding follows the table exactly,
 * and Q8_0 stores these rows without error (a block's largest value is exact, the others are 0).
 */
import type { BpeVocabulary } from "./byteLevelBpe.js";
import { GgmlType } from "./ggufTypes.js";
import { type LlamaConfig, llamaTensorShapes, writeLlamaGguf } from "./llamaGguf.js";

/** What follows what: `next` maps a token to its successor; every token it does not name is followed by `otherwise`. */
export interface SuccessorTable {
  next: ReadonlyMap<number, number>;
  otherwise: number;
}

/** Output weight on a source's dimension: with RMS norm's sqrt(32), a logit of about 23 over 0 for every other token. */
const MARGIN = 4;
/** Q8_0 quantizes rows in blocks of 32 values. */
const BLOCK = 32;

function successorConfig(vocabSize: number, width: number): LlamaConfig {
  return {
    name: "verispec-successor",
    vocabSize,
    embeddingSize: width,
    layers: 1,
    heads: 2,
    kvHeads: 2,
    feedForwardSize: BLOCK,
    contextLength: 1024,
    ropeBase: 10000,
    rmsEpsilon: 1e-5,
  };
}

/** The embeddings and output rows of the table, with `width` values a row. */
function successorRows(vocabSize: number, width: number, table: SuccessorTable): { embeddings: Float32Array; output: Float32Array } {
  const dimension = new Map([...table.next.keys()].map((token, i) => [token, i + 1]));
  const embeddings = new Float32Array(vocabSize * width);
  const output = new Float32Array(vocabSize * width);
  for (let token = 0; token < vocabSize; token++) embeddings[token * width + (dimension.get(token) ?? 0)] = 1;
  for (const [from, to] of table.next) output[to * width + (dimension.get(from) ?? 0)] = MARGIN;
  output[table.otherwise * width] = MARGIN;
  return { embeddings, output };
}

/** Writes a one-layer llama model with `vocabulary` whose greedy next token follows `table`. */
export function writeSuccessorLlama(path: string, vocabulary: BpeVocabulary, table: SuccessorTable): void {
  const vocabSize = vocabulary.tokens.length;
  const width = Math.ceil((table.next.size + 1) / BLOCK) * BLOCK;
  const config = successorConfig(vocabSize, width);
  const { embeddings, output } = successorRows(vocabSize, width, table);
  const weights = new Map<string, Float32Array>();
  for (const [name, shape] of llamaTensorShapes(config)) {
    const count = shape.reduce((a, b) => a * b, 1);
    weights.set(name, shape.length === 1 ? new Float32Array(count).fill(1) : new Float32Array(count));
  }
  weights.set("token_embd.weight", embeddings);
  weights.set("output.weight", output);
  writeLlamaGguf(path, config, vocabulary, weights, GgmlType.Q8_0);
}
