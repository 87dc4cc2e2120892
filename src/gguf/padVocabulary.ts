/**
 * A llama GGUF whose vocabulary is padded with extra tokens, as model makers pad a vocabulary to a round size
 * (Qwen2.5's 7B has 152,064 tokens where its 0.5B has 151,936): `<pad_0>`, `<pad_1>`, ... of type UNUSED, each
 * with a row appended to the token embeddings and, where the file has one, to the output matrix. The rows are
 * zero by default, or copies of other tokens' rows scaled up, which makes the padding tokens likely argmaxes:
 * what a test needs to show that a drafter never drafts them.
 */
import { closeSync, openSync } from "node:fs";
import { type GgufHeader, type GgufTensorInfo, readGgufHeader, readTensorData, rowBytes, typedMetadata } from "./ggufReader.js";
import { GGML_BLOCK, GgmlType, type GgufValue, GgufValueType } from "./ggufTypes.js";
import { writeGgufStreamed } from "./ggufWriter.js";
import { fromHalf, toHalf } from "./tensorEncoding.js";

/** llama.cpp's LLAMA_TOKEN_TYPE_UNUSED. */
export const TOKEN_TYPE_UNUSED = 5;

export interface VocabularyPadding {
  /** Tokens appended. */
  count: number;
  /** Appended row i copies the row of token `first + i`, times `scale`; zero rows when omitted. */
  rowsLike?: { first: number; scale: number };
}

/** The tensors with a row per token. */
const PER_TOKEN = new Set(["token_embd.weight", "output.weight"]);

/** Writes `source` with its vocabulary padded at `out`; returns the new vocabulary size. */
export function padVocabulary(source: string, out: string, padding: VocabularyPadding): number {
  const h = readGgufHeader(source);
  const tokens = h.metadata.get("tokenizer.ggml.tokens");
  if (!Array.isArray(tokens)) throw new RangeError(`${source} has no tokenizer.ggml.tokens`);
  if (!Number.isInteger(padding.count) || padding.count < 0) throw new RangeError(`the padding must be a whole number of tokens, got ${padding.count}`);
  const size = tokens.length + padding.count;
  const tensors = h.tensors.map((t) => {
    const shape = PER_TOKEN.has(t.name) ? [t.shape[0], size] : t.shape;
    return { name: t.name, shape, type: t.type as GgmlType, byteLength: rowBytes(t.type as GgmlType, shape[0]) * shape.slice(1).reduce((a, b) => a * b, 1) };
  });
  const fd = openSync(source, "r");
  try {
    writeGgufStreamed(out, paddedMetadata(h, tokens.length, padding.count), tensors, (i) => {
      const data = readTensorData(fd, h, h.tensors[i]);
      return PER_TOKEN.has(h.tensors[i].name) ? withRows(data, h.tensors[i], padding) : data;
    });
  } finally {
    closeSync(fd);
  }
  return size;
}

/** The metadata with the padding tokens appended to every per-token array and the new vocabulary size. */
function paddedMetadata(h: GgufHeader, oldSize: number, count: number): Map<string, GgufValue> {
  const out = typedMetadata(h);
  const names = Array.from({ length: count }, (_, i) => `<pad_${i}>`);
  const append = (key: string, itemType: GgufValueType, extra: readonly (string | number)[]) => {
    const old = h.metadata.get(key);
    if (Array.isArray(old)) out.set(key, { type: GgufValueType.Array, itemType, value: [...old, ...extra] } as GgufValue);
  };
  append("tokenizer.ggml.tokens", GgufValueType.String, names);
  append(
    "tokenizer.ggml.token_type",
    GgufValueType.Int32,
    names.map(() => TOKEN_TYPE_UNUSED),
  );
  append(
    "tokenizer.ggml.scores",
    GgufValueType.Float32,
    names.map(() => 0),
  );
  const arch = String(h.metadata.get("general.architecture"));
  if (h.metadata.has(`${arch}.vocab_size`)) out.set(`${arch}.vocab_size`, { type: GgufValueType.Uint32, value: oldSize + count });
  return out;
}

/** The tensor's rows and `count` more: zeros, or scaled copies of other rows. */
function withRows(data: Uint8Array, t: GgufTensorInfo, padding: VocabularyPadding): Uint8Array {
  const row = rowBytes(t.type as GgmlType, t.shape[0]);
  const out = new Uint8Array(data.length + row * padding.count);
  out.set(data);
  const like = padding.rowsLike;
  if (!like) return out;
  if (like.first < 0 || like.first + padding.count > t.shape[1])
    throw new RangeError(`the copied rows must be tokens of the vocabulary (0 to ${t.shape[1] - 1})`);
  for (let i = 0; i < padding.count; i++) {
    const copy = data.slice((like.first + i) * row, (like.first + i + 1) * row);
    scaleRow(copy, t.type as GgmlType, like.scale);
    out.set(copy, data.length + i * row);
  }
  return out;
}

/** Multiplies an encoded row by `scale` in place: each value (F32, F16), or each block's f16 scale (Q4_0, Q8_0). */
function scaleRow(bytes: Uint8Array, type: GgmlType, scale: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (type === GgmlType.F32) {
    for (let at = 0; at < bytes.length; at += 4) view.setFloat32(at, view.getFloat32(at, true) * scale, true);
    return;
  }
  // F16 values are 2-byte blocks of one element; a quantised block starts with its f16 scale.
  const block = GGML_BLOCK[type].bytes;
  for (let at = 0; at < bytes.length; at += block) view.setUint16(at, toHalf(fromHalf(view.getUint16(at, true)) * scale), true);
}
