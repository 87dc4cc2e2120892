/** Encoding of float32 weights into the ggml tensor types the writer supports. */
import { GGML_BLOCK, GgmlType } from "./ggufTypes.js";

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half precision from a float, rounding to nearest even. */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return sign | h;
}

/** A float from IEEE half precision bits. */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function encodeQ8(values: Float32Array, out: DataView): void {
  for (let b = 0; b < values.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i]));
    const d = amax / 127;
    const dh = toHalf(d);
    const inv = d ? 1 / d : 0;
    out.setUint16(b * 34, dh, true);
    for (let i = 0; i < 32; i++) out.setInt8(b * 34 + 2 + i, Math.round(values[b * 32 + i] * inv));
  }
}

function encodeQ4(values: Float32Array, out: DataView): void {
  for (let b = 0; b < values.length / 32; b++) {
    let max = 0;
    for (let i = 0; i < 32; i++) {
      const v = values[b * 32 + i];
      if (Math.abs(v) > Math.abs(max)) max = v;
    }
    const d = max / -8;
    const inv = d ? 1 / d : 0;
    out.setUint16(b * 18, toHalf(d), true);
    for (let i = 0; i < 16; i++) {
      const lo = Math.min(15, Math.trunc(values[b * 32 + i] * inv + 8.5));
      const hi = Math.min(15, Math.trunc(values[b * 32 + 16 + i] * inv + 8.5));
      out.setUint8(b * 18 + 2 + i, lo | (hi << 4));
    }
  }
}

/** Bytes needed for `count` elements of a type. */
export function encodedSize(type: GgmlType, count: number): number {
  const block = GGML_BLOCK[type];
  if (count % block.elements !== 0) throw new Error(`${GgmlType[type]} needs a multiple of ${block.elements} elements, got ${count}`);
  return (count / block.elements) * block.bytes;
}

/** Encodes float32 values as the given ggml type (row-major, contiguous rows). */
export function encodeTensor(values: Float32Array, type: GgmlType): Uint8Array {
  const bytes = new Uint8Array(encodedSize(type, values.length));
  const view = new DataView(bytes.buffer);
  switch (type) {
    case GgmlType.F32:
      bytes.set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      break;
    case GgmlType.F16:
      for (let i = 0; i < values.length; i++) view.setUint16(i * 2, toHalf(values[i]), true);
      break;
    case GgmlType.Q8_0:
      encodeQ8(values, view);
      break;
    case GgmlType.Q4_0:
      encodeQ4(values, view);
      break;
  }
  return bytes;
}
