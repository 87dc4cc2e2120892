/** Reads safetensors files (an 8-byte header length, a JSON header, raw little-endian data) into float32 arrays. */
import { readFileSync } from "node:fs";
import { fromHalf } from "./tensorEncoding.js";

function toFloat32(dtype: string, bytes: Buffer): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dtype === "F32") return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const out = new Float32Array(bytes.length / 2);
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  for (let i = 0; i < out.length; i++) {
    const h = view.getUint16(i * 2, true);
    if (dtype === "BF16") {
      bits[0] = h << 16;
      out[i] = asFloat[0];
    } else out[i] = fromHalf(h);
  }
  return out;
}

/** Every tensor of a safetensors file, as float32 (F32, F16 and BF16 are supported). */
export function readSafetensors(path: string): Map<string, { shape: number[]; values: Float32Array }> {
  const file = readFileSync(path);
  if (file.length < 8) throw new Error(`${path}: not a safetensors file (too short)`);
  const headerLength = Number(file.readBigUInt64LE(0));
  if (headerLength > file.length - 8) throw new Error(`${path}: not a safetensors file (bad header length)`);
  const header = JSON.parse(file.toString("utf8", 8, 8 + headerLength)) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (!["F32", "F16", "BF16"].includes(info.dtype)) throw new Error(`${path}: tensor ${name} has unsupported type ${info.dtype}`);
    const [from, to] = info.data_offsets;
    out.set(name, { shape: info.shape, values: toFloat32(info.dtype, file.subarray(8 + headerLength + from, 8 + headerLength + to)) });
  }
  return out;
}
