/**
 * Cost-equivalent targets: a small llama model written inside a larger llama shape whose extra dimensions,
 * heads, feed-forward units and layers are all zero. The text is the small model's; every forward pass costs
 * what the large shape costs. Why it computes the same function:
 * - extra embedding dimensions stay zero through every layer (all weights reading or writing them are zero);
 * - RMS norm over D dimensions of which d are live divides by sqrt(d/D) more, so each norm weight is scaled
 *   by sqrt(d/D) and the epsilon by d/D, giving back the small model's normalised values exactly;
 * - extra heads have zero q, k, v and output rows (the head size, hence the attention scale and RoPE, is kept);
 * - extra feed-forward units have zero gate, up and down weights; extra layers are all zero (identity residual).
 */
import { closeSync, openSync } from "node:fs";
import { type GgufHeader, type GgufTensorInfo, readGgufHeader, readTensorData, rowBytes, typedMetadata } from "./ggufReader.js";
import { GgmlType, type GgufValue, GgufValueType } from "./ggufTypes.js";
import { type GgufTensorInfoToWrite, writeGgufStreamed } from "./ggufWriter.js";

export interface EmbedShape {
  layers: number;
  width: number;
  ffn: number;
}

/** llama shapes of common sizes (TinyLlama 1.1B; LLaMA 7B). */
export const EMBED_PRESETS: Record<string, EmbedShape> = {
  "1b": { layers: 22, width: 2048, ffn: 5632 },
  "7b": { layers: 32, width: 4096, ffn: 11008 },
};

interface SourceShape extends EmbedShape {
  heads: number;
  kvHeads: number;
  headSize: number;
  epsilon: number;
}

function sourceShape(h: GgufHeader): SourceShape {
  const arch = h.metadata.get("general.architecture");
  if (arch !== "llama") throw new RangeError(`embed-target takes llama models, not ${String(arch)}`);
  const num = (key: string) => Number(h.metadata.get(`llama.${key}`));
  const width = num("embedding_length");
  const heads = num("attention.head_count");
  const kvHeads = Number(h.metadata.get("llama.attention.head_count_kv") ?? heads);
  return {
    layers: num("block_count"),
    width,
    ffn: num("feed_forward_length"),
    heads,
    kvHeads,
    headSize: width / heads,
    epsilon: num("attention.layer_norm_rms_epsilon"),
  };
}

function checkShape(src: SourceShape, to: EmbedShape): void {
  const bad = (why: string) =>
    new RangeError(`cannot embed a ${src.layers}x${src.width} (ffn ${src.ffn}) model in ${to.layers}x${to.width} (ffn ${to.ffn}): ${why}`);
  if (to.layers < src.layers || to.width < src.width || to.ffn < src.ffn) throw bad("the shape must be at least as large in layers, width and ffn");
  if (to.width % src.headSize !== 0) throw bad(`the width must be a multiple of the head size ${src.headSize}`);
  if (to.width % 32 !== 0 || to.ffn % 32 !== 0) throw bad("width and ffn must be multiples of 32 (quantisation blocks)");
  if (((to.width / src.headSize) * src.kvHeads) % src.heads !== 0) throw bad("the key/value heads would not divide evenly");
}

/** The new shape of each tensor [ne0, ne1] and the scale of norm weights, by tensor name. */
function plan(src: SourceShape, to: EmbedShape, name: string): { shape: number[]; normScale?: number } {
  const heads = to.width / src.headSize;
  const kv = (heads * src.kvHeads) / src.heads;
  const normScale = Math.sqrt(src.width / to.width);
  const role = name.replace(/^blk\.\d+\./, "");
  const shapes: Record<string, number[]> = {
    "token_embd.weight": [to.width, -1],
    "output.weight": [to.width, -1],
    "attn_q.weight": [to.width, heads * src.headSize],
    "attn_k.weight": [to.width, kv * src.headSize],
    "attn_v.weight": [to.width, kv * src.headSize],
    "attn_output.weight": [heads * src.headSize, to.width],
    "ffn_gate.weight": [to.width, to.ffn],
    "ffn_up.weight": [to.width, to.ffn],
    "ffn_down.weight": [to.ffn, to.width],
  };
  if (role === "output_norm.weight" || role === "attn_norm.weight" || role === "ffn_norm.weight") return { shape: [to.width], normScale };
  if (!(role in shapes)) throw new RangeError(`embed-target does not know the tensor ${name}`);
  return { shape: shapes[role] };
}

/**
 * The source tensor's rows copied into the start of the larger tensor's rows; everything else zero. A row that
 * concatenates `segments` vectors (an EAGLE-3 head's inputs: several layers, or a token and a feature) has each
 * segment copied to the start of its own segment of the larger row.
 */
export function padded(source: Uint8Array, info: GgufTensorInfo, shape: readonly number[], normScale: number | undefined, segments = 1): Uint8Array {
  const type = info.type as GgmlType;
  const [srcPart, dstPart] = [rowBytes(type, info.shape[0] / segments), rowBytes(type, shape[0] / segments)];
  const out = new Uint8Array(dstPart * segments * (shape[1] ?? 1));
  for (let r = 0; r < (info.shape[1] ?? 1); r++)
    for (let s = 0; s < segments; s++) {
      const from = (r * segments + s) * srcPart;
      out.set(source.subarray(from, from + srcPart), (r * segments + s) * dstPart);
    }
  if (normScale !== undefined) {
    if (type !== GgmlType.F32) throw new RangeError(`norm weights must be F32 to be rescaled (${info.name} is type ${type})`);
    const values = new Float32Array(out.buffer, 0, shape[0]);
    for (let i = 0; i < values.length; i++) values[i] *= normScale;
  }
  return out;
}

/** The attention and width of a model to embed, as the metadata of its architecture states them. */
export interface WidthShape {
  width: number;
  heads: number;
  kvHeads: number;
  headSize: number;
  epsilon: number;
}

/**
 * Every metadata value of `h` with its own GGUF type, the width, feed-forward size, heads and norm epsilon of the
 * embedded shape in place of the source's (keys under `arch.`), and names saying what was embedded in what.
 */
export function embeddedMetadata(h: GgufHeader, arch: string, src: WidthShape, to: EmbedShape, names: { model: string; from: string }): Map<string, GgufValue> {
  const out = typedMetadata(h);
  const heads = to.width / src.headSize;
  const u32 = (value: number): GgufValue => ({ type: GgufValueType.Uint32, value });
  out.set(`${arch}.embedding_length`, u32(to.width));
  out.set(`${arch}.feed_forward_length`, u32(to.ffn));
  out.set(`${arch}.attention.head_count`, u32(heads));
  out.set(`${arch}.attention.head_count_kv`, u32((heads * src.kvHeads) / src.heads));
  out.set(`${arch}.attention.layer_norm_rms_epsilon`, { type: GgufValueType.Float32, value: (src.epsilon * src.width) / to.width });
  out.set("general.name", { type: GgufValueType.String, value: names.model });
  out.set("verispec.embedded_from", { type: GgufValueType.String, value: names.from });
  return out;
}

function metadataFor(h: GgufHeader, src: SourceShape, to: EmbedShape): Map<string, GgufValue> {
  const name = String(h.metadata.get("general.name") ?? "model");
  const model = `${name} (cost-equivalent ${to.layers}x${to.width}, ffn ${to.ffn})`;
  const out = embeddedMetadata(h, "llama", src, to, { model, from: `${name} ${src.layers}x${src.width}, ffn ${src.ffn}` });
  out.set("llama.block_count", { type: GgufValueType.Uint32, value: to.layers });
  return out;
}

/** Writes `source` inside the larger llama shape `to` at `out`; returns the written tensors' total bytes. */
export function embedTarget(source: string, out: string, to: EmbedShape): number {
  const h = readGgufHeader(source);
  const src = sourceShape(h);
  checkShape(src, to);
  const byName = new Map(h.tensors.map((t) => [t.name, t]));
  const names = h.tensors.filter((t) => !t.name.startsWith("blk.")).map((t) => t.name);
  const layerRoles = h.tensors.filter((t) => t.name.startsWith("blk.0.")).map((t) => t.name.slice("blk.0.".length));
  for (let l = 0; l < to.layers; l++) names.push(...layerRoles.map((r) => `blk.${l}.${r}`));
  // Tensors of the extra layers take the types of layer 0's.
  const infoOf = (name: string) => byName.get(name) ?? byName.get(name.replace(/^blk\.\d+\./, "blk.0."))!;
  const tensors: (GgufTensorInfoToWrite & { normScale?: number })[] = names.map((name) => {
    const info = infoOf(name);
    const { shape, normScale } = plan(src, to, name);
    const full = shape.map((d, i) => (d === -1 ? info.shape[i] : d));
    return { name, shape: full, type: info.type as GgmlType, byteLength: rowBytes(info.type as GgmlType, full[0]) * (full[1] ?? 1), normScale };
  });
  const fd = openSync(source, "r");
  try {
    writeGgufStreamed(out, metadataFor(h, src, to), tensors, (i) => {
      const t = tensors[i];
      const info = byName.get(t.name);
      return info ? padded(readTensorData(fd, h, info), info, t.shape, t.normScale) : new Uint8Array(t.byteLength);
    });
  } finally {
    closeSync(fd);
  }
  return tensors.reduce((sum, t) => sum + t.byteLength, 0);
}
