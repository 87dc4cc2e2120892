/** Writes GGUF (version 3) files: metadata, tensor infos, then aligned tensor data. */
import { closeSync, openSync, writeSync } from "node:fs";
import { GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, type GgufTensor, type GgufValue, GgufValueType } from "./ggufTypes.js";

/** Appends little-endian values to a growing list of chunks. */
class ByteSink {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  private scalar(bytes: number, write: (view: DataView) => void): void {
    const chunk = new Uint8Array(bytes);
    write(new DataView(chunk.buffer));
    this.bytes(chunk);
  }
  bytes(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }
  u32(v: number): void {
    this.scalar(4, (d) => d.setUint32(0, v, true));
  }
  i32(v: number): void {
    this.scalar(4, (d) => d.setInt32(0, v, true));
  }
  f32(v: number): void {
    this.scalar(4, (d) => d.setFloat32(0, v, true));
  }
  u64(v: number): void {
    this.scalar(8, (d) => d.setBigUint64(0, BigInt(v), true));
  }
  string(s: string): void {
    const bytes = Buffer.from(s, "utf8");
    this.u64(bytes.length);
    this.bytes(bytes);
  }
  pad(alignment: number): void {
    const rest = this.length % alignment;
    if (rest) this.bytes(new Uint8Array(alignment - rest));
  }
}

function writeScalar(sink: ByteSink, type: GgufValueType, v: number | boolean | string): void {
  if (type === GgufValueType.String) sink.string(v as string);
  else if (type === GgufValueType.Uint32) sink.u32(v as number);
  else if (type === GgufValueType.Int32) sink.i32(v as number);
  else if (type === GgufValueType.Float32) sink.f32(v as number);
  else if (type === GgufValueType.Bool) sink.bytes(new Uint8Array([v ? 1 : 0]));
  else throw new Error(`unsupported GGUF value type ${type}`);
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(value.type);
  if (value.type !== GgufValueType.Array) {
    writeScalar(sink, value.type, value.value);
    return;
  }
  sink.u32(value.itemType);
  sink.u64(value.value.length);
  for (let i = 0; i < value.value.length; i++) writeScalar(sink, value.itemType, value.value[i]);
}

function checkTensor(t: GgufTensor): void {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const block = GGML_BLOCK[t.type];
  if (t.shape[0] % block.elements !== 0) throw new Error(`tensor ${t.name}: first dimension must be a multiple of ${block.elements}`);
  const expected = (count / block.elements) * block.bytes;
  if (t.data.length !== expected) throw new Error(`tensor ${t.name}: ${t.data.length} bytes of data, expected ${expected}`);
}

/** Serialises a GGUF file into chunks (header first, then tensor data). */
export function encodeGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array[] {
  const alignment = GGUF_DEFAULT_ALIGNMENT;
  const header = new ByteSink();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(tensors.length);
  header.u64(metadata.size);
  for (const [key, value] of metadata) {
    header.string(key);
    writeValue(header, value);
  }
  let offset = 0;
  for (const t of tensors) {
    checkTensor(t);
    header.string(t.name);
    header.u32(t.shape.length);
    for (const dim of t.shape) header.u64(dim);
    header.u32(t.type);
    header.u64(offset);
    offset += Math.ceil(t.data.length / alignment) * alignment;
  }
  header.pad(alignment);
  const data = new ByteSink();
  for (const t of tensors) {
    data.bytes(t.data);
    data.pad(alignment);
  }
  return [...header.chunks, ...data.chunks];
}

/** Writes a GGUF file to disk. */
export function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): void {
  const fd = openSync(path, "w");
  try {
    for (const chunk of encodeGguf(metadata, tensors)) writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
}
