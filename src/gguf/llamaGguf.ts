/**
 * Writes llama-architecture models as GGUF files that llama.cpp runs unchanged:
 * the hyper-parameters, a GPT-2 byte-level BPE vocabulary, and the weights.
 * Used for the random test models and to export the project's trained models.
 */
import type { BpeVocabulary } from "./byteLevelBpe.js";
import { GgmlType, type GgufTensor, type GgufValue, gguf } from "./ggufTypes.js";
import { writeGguf } from "./ggufWriter.js";
import { llama3RopeFactors, ROPE_FREQS_TENSOR, type RopeScaling, ropeScalingMetadata } from "./ropeScaling.js";
import { encodeTensor } from "./tensorEncoding.js";

export interface LlamaConfig {
  name: string;
  vocabSize: number;
  embeddingSize: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForwardSize: number;
  contextLength: number;
  /** Rotary base frequency. */
  ropeBase: number;
  rmsEpsilon: number;
  /** The output head reuses the token embeddings (no output.weight tensor). */
  tiedEmbeddings?: boolean;
  /** Long-context RoPE scaling (Llama-3.1's factors tensor, or YaRN's keys); none by default. */
  ropeScaling?: RopeScaling;
}

/** Weights by GGUF tensor name, each float32 in row-major order (rows of the contiguous dimension). */
export type LlamaWeights = ReadonlyMap<string, Float32Array>;

/** Tensor names and ggml shapes (contiguous dimension first) of a llama model. */
export function llamaTensorShapes(c: LlamaConfig): Map<string, number[]> {
  const headSize = c.embeddingSize / c.heads;
  const kv = headSize * c.kvHeads;
  const shapes = new Map<string, number[]>([
    ["token_embd.weight", [c.embeddingSize, c.vocabSize]],
    ["output_norm.weight", [c.embeddingSize]],
  ]);
  if (!c.tiedEmbeddings) shapes.set("output.weight", [c.embeddingSize, c.vocabSize]);
  for (let l = 0; l < c.layers; l++) {
    const p = `blk.${l}.`;
    shapes.set(`${p}attn_norm.weight`, [c.embeddingSize]);
    shapes.set(`${p}attn_q.weight`, [c.embeddingSize, c.embeddingSize]);
    shapes.set(`${p}attn_k.weight`, [c.embeddingSize, kv]);
    shapes.set(`${p}attn_v.weight`, [c.embeddingSize, kv]);
    shapes.set(`${p}attn_output.weight`, [c.embeddingSize, c.embeddingSize]);
    shapes.set(`${p}ffn_norm.weight`, [c.embeddingSize]);
    shapes.set(`${p}ffn_gate.weight`, [c.embeddingSize, c.feedForwardSize]);
    shapes.set(`${p}ffn_up.weight`, [c.embeddingSize, c.feedForwardSize]);
    shapes.set(`${p}ffn_down.weight`, [c.feedForwardSize, c.embeddingSize]);
  }
  return shapes;
}

function llamaMetadata(c: LlamaConfig, vocab: BpeVocabulary, fileType: GgmlType): Map<string, GgufValue> {
  return new Map<string, GgufValue>([
    ["general.architecture", gguf.str("llama")],
    ["general.name", gguf.str(c.name)],
    ["general.file_type", gguf.u32(fileType === GgmlType.Q8_0 ? 7 : fileType === GgmlType.Q4_0 ? 2 : fileType)],
    ["llama.context_length", gguf.u32(c.contextLength)],
    ["llama.embedding_length", gguf.u32(c.embeddingSize)],
    ["llama.block_count", gguf.u32(c.layers)],
    ["llama.feed_forward_length", gguf.u32(c.feedForwardSize)],
    ["llama.attention.head_count", gguf.u32(c.heads)],
    ["llama.attention.head_count_kv", gguf.u32(c.kvHeads)],
    ["llama.rope.dimension_count", gguf.u32(c.embeddingSize / c.heads)],
    ["llama.rope.freq_base", gguf.f32(c.ropeBase)],
    ...ropeScalingMetadata(c.ropeScaling),
    ["llama.attention.layer_norm_rms_epsilon", gguf.f32(c.rmsEpsilon)],
    ["llama.vocab_size", gguf.u32(c.vocabSize)],
    ...tokenizerMetadata(vocab),
  ]);
}

/** The vocabulary's keys: a byte-level BPE one's merges, or a SentencePiece one's scores ("llama" tokenizer). */
function tokenizerMetadata(vocab: BpeVocabulary): [string, GgufValue][] {
  const optional = (key: string, value: GgufValue | undefined): [string, GgufValue][] => (value === undefined ? [] : [[key, value]]);
  const spm = vocab.scores !== undefined;
  return [
    ["tokenizer.ggml.model", gguf.str(spm ? "llama" : "gpt2")],
    ["tokenizer.ggml.pre", gguf.str(vocab.pre ?? (spm ? "default" : "gpt-2"))],
    ["tokenizer.ggml.tokens", gguf.strings(vocab.tokens)],
    ["tokenizer.ggml.token_type", gguf.i32s(vocab.tokenTypes)],
    vocab.scores ? ["tokenizer.ggml.scores", gguf.f32s(vocab.scores)] : ["tokenizer.ggml.merges", gguf.strings(vocab.merges)],
    ["tokenizer.ggml.bos_token_id", gguf.u32(vocab.bos)],
    ["tokenizer.ggml.eos_token_id", gguf.u32(vocab.eos)],
    ...optional("tokenizer.ggml.unknown_token_id", vocab.unknown === undefined ? undefined : gguf.u32(vocab.unknown)),
    ["tokenizer.ggml.add_bos_token", gguf.bool(vocab.addBos)],
    ...optional("tokenizer.ggml.add_space_prefix", spm ? gguf.bool(false) : undefined),
    ...optional("tokenizer.chat_template", vocab.chatTemplate === undefined ? undefined : gguf.str(vocab.chatTemplate)),
  ];
}

/** Matrices are stored as `type`; vectors (norms) stay float32, as llama.cpp expects. */
function tensorType(shape: readonly number[], type: GgmlType): GgmlType {
  return shape.length === 1 ? GgmlType.F32 : type;
}

/** Writes a llama model to `path`. Every tensor of `llamaTensorShapes` must be present with the right size. */
export function writeLlamaGguf(path: string, config: LlamaConfig, vocab: BpeVocabulary, weights: LlamaWeights, type: GgmlType): void {
  if (vocab.tokens.length !== config.vocabSize) throw new Error(`vocabulary has ${vocab.tokens.length} tokens, config says ${config.vocabSize}`);
  const tensors: GgufTensor[] = [];
  for (const [name, shape] of llamaTensorShapes(config)) {
    const values = weights.get(name);
    const count = shape.reduce((a, b) => a * b, 1);
    if (!values) throw new Error(`missing weight ${name}`);
    if (values.length !== count) throw new Error(`weight ${name} has ${values.length} values, expected ${count}`);
    const t = tensorType(shape, type);
    tensors.push({ name, shape, type: t, data: encodeTensor(values, t) });
  }
  if (config.ropeScaling?.kind === "llama3") {
    const factors = llama3RopeFactors(config.embeddingSize / config.heads, config.ropeBase, config.ropeScaling);
    tensors.push({ name: ROPE_FREQS_TENSOR, shape: [factors.length], type: GgmlType.F32, data: encodeTensor(factors, GgmlType.F32) });
  }
  writeGguf(path, llamaMetadata(config, vocab, type), tensors);
}
