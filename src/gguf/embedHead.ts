/**
 * An EAGLE-3 head for a cost-equivalent target (embedTarget.ts): the head written inside the target's larger
 * width, zeros elsewhere, so it drafts what it drafts for the small target at the cost of a head for the large one.
 * The head borrows the target's embeddings and output matrix, so its width must be the target's. Why it computes
 * the same function on the embedded target:
 * - the embedded target's layers keep their indices (extra layers come after them), so the head reads the same
 *   layers, whose inputs are the small target's in their first dimensions and zero elsewhere;
 * - inputs that concatenate vectors (`fc` over three layers, q/k/v over the token's and the feature's halves) keep
 *   each vector's part at the start of its own segment;
 * - RMS norms over the wider vectors are rescaled as the target's are (weights by sqrt(w/W), epsilon by w/W);
 * - extra heads and feed-forward units are zero, the head size (so the attention scale and RoPE) is kept.
 */
import { closeSync, openSync } from "node:fs";
import { type EmbedShape, embeddedMetadata, padded } from "./embedTarget.js";
import { type GgufHeader, readGgufHeader, readTensorData, rowBytes } from "./ggufReader.js";
import type { GgmlType, GgufValue } from "./ggufTypes.js";
import { GgufValueType } from "./ggufTypes.js";
import { type GgufTensorInfoToWrite, writeGgufStreamed } from "./ggufWriter.js";

interface HeadShape {
  width: number;
  ffn: number;
  heads: number;
  kvHeads: number;
  headSize: number;
  epsilon: number;
  /** Target layers read (3 for EAGLE-3). */
  layers: number;
}

function headShape(h: GgufHeader): HeadShape {
  if (h.metadata.get("general.architecture") !== "eagle3") throw new RangeError(`not an EAGLE-3 head: ${String(h.metadata.get("general.architecture"))}`);
  const num = (key: string) => Number(h.metadata.get(`eagle3.${key}`));
  const width = num("embedding_length");
  const heads = num("attention.head_count");
  const kvHeads = Number(h.metadata.get("eagle3.attention.head_count_kv") ?? heads);
  const layers = (h.metadata.get("eagle3.target_layers") as number[]).length;
  return { width, ffn: num("feed_forward_length"), heads, kvHeads, headSize: width / heads, epsilon: num("attention.layer_norm_rms_epsilon"), layers };
}

/** Each tensor's new shape [ne0, ne1], its segments per row, and the scale of norm weights. */
function plan(src: HeadShape, to: EmbedShape, name: string): { shape: number[]; segments: number; normScale?: number } {
  const heads = to.width / src.headSize;
  const kv = (heads * src.kvHeads) / src.heads;
  const normScale = Math.sqrt(src.width / to.width);
  const role = name.replace(/^blk\.\d+\./, "");
  if (["attn_norm.weight", "attn_norm_2.weight", "ffn_norm.weight", "output_norm.weight"].includes(role)) return { shape: [to.width], segments: 1, normScale };
  if (role === "enc.output_norm.weight") return { shape: [src.layers * to.width], segments: src.layers, normScale };
  const shapes: Record<string, [number[], number]> = {
    "fc.weight": [[src.layers * to.width, to.width], src.layers],
    "attn_q.weight": [[2 * to.width, heads * src.headSize], 2],
    "attn_k.weight": [[2 * to.width, kv * src.headSize], 2],
    "attn_v.weight": [[2 * to.width, kv * src.headSize], 2],
    "attn_output.weight": [[heads * src.headSize, to.width], 1],
    "ffn_gate.weight": [[to.width, to.ffn], 1],
    "ffn_up.weight": [[to.width, to.ffn], 1],
    "ffn_down.weight": [[to.ffn, to.width], 1],
  };
  if (!(role in shapes)) throw new RangeError(`embed-target does not know the head's tensor ${name}`);
  const [shape, segments] = shapes[role];
  return { shape, segments };
}

function metadataFor(h: GgufHeader, src: HeadShape, to: EmbedShape): Map<string, GgufValue> {
  const name = String(h.metadata.get("general.name") ?? "head");
  const model = `${name} (for a cost-equivalent ${to.layers}x${to.width} target)`;
  const out = embeddedMetadata(h, "eagle3", src, to, { model, from: `${name} ${src.width} wide, ffn ${src.ffn}` });
  out.set("eagle3.target_hidden_size", { type: GgufValueType.Uint32, value: to.width });
  return out;
}

/** Writes the EAGLE-3 head `source` for a target embedded in `to` (embedTarget) at `out`; returns the tensors' bytes. */
export function embedHead(source: string, out: string, to: EmbedShape): number {
  const h = readGgufHeader(source);
  const src = headShape(h);
  if (to.width < src.width || to.ffn < src.ffn) throw new RangeError(`cannot embed a ${src.width}-wide head (ffn ${src.ffn}) in ${to.width} (ffn ${to.ffn})`);
  if (to.width % src.headSize !== 0 || to.width % 32 !== 0 || to.ffn % 32 !== 0)
    throw new RangeError(`the width must be a multiple of the head size ${src.headSize} and of 32, the ffn of 32`);
  const tensors = h.tensors.map((info) => {
    const { shape, segments, normScale } = plan(src, to, info.name);
    const type = info.type as GgmlType;
    return { info, segments, normScale, name: info.name, shape, type, byteLength: rowBytes(type, shape[0]) * (shape[1] ?? 1) };
  });
  const fd = openSync(source, "r");
  try {
    const written: GgufTensorInfoToWrite[] = tensors;
    writeGgufStreamed(out, metadataFor(h, src, to), written, (i) => {
      const t = tensors[i];
      return padded(readTensorData(fd, h, t.info), t.info, t.shape, t.normScale, t.segments);
    });
  } finally {
    closeSync(fd);
  }
  return tensors.reduce((sum, t) => sum + t.byteLength, 0);
}

/** Whether a GGUF file is an EAGLE-3 head. */
export function isEagleHead(file: string): boolean {
  return readGgufHeader(file).metadata.get("general.architecture") === "eagle3";
}
