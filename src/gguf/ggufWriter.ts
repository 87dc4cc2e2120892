/** Writes GGUF (version 3) files: metadata, tensor infos, then aligned tensor data. */
import { closeSync, openSync, writeSync } from "node:fs";
import { GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGUF_VERSION, type GgmlType, type GgufTensor, type GgufValue, GgufValueType } from "./ggufTypes.js";

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

/** Little-endian writers of the numeric GGUF types: byte size and DataView setter. */
const NUMERIC: Partial<Record<GgufValueType, [number, (d: DataView, at: number, v: number | bigint) => void]>> = {
  [GgufValueType.Uint8]: [1, (d, at, v) => d.setUint8(at, Number(v))],
  [GgufValueType.Int8]: [1, (d, at, v) => d.setInt8(at, Number(v))],
  [GgufValueType.Uint16]: [2, (d, at, v) => d.setUint16(at, Number(v), true)],
  [GgufValueType.Int16]: [2, (d, at, v) => d.setInt16(at, Number(v), true)],
  [GgufValueType.Uint32]: [4, (d, at, v) => d.setUint32(at, Number(v), true)],
  [GgufValueType.Int32]: [4, (d, at, v) => d.setInt32(at, Number(v), true)],
  [GgufValueType.Float32]: [4, (d, at, v) => d.setFloat32(at, Number(v), true)],
  [GgufValueType.Uint64]: [8, (d, at, v) => d.setBigUint64(at, BigInt(v), true)],
  [GgufValueType.Int64]: [8, (d, at, v) => d.setBigInt64(at, BigInt(v), true)],
  [GgufValueType.Float64]: [8, (d, at, v) => d.setFloat64(at, Number(v), true)],
};

function writeScalar(sink: ByteSink, type: GgufValueType, v: number | bigint | boolean | string): void {
  if (type === GgufValueType.String) sink.string(v as string);
  else if (type === GgufValueType.Bool) sink.bytes(new Uint8Array([v ? 1 : 0]));
  else {
    const numeric = NUMERIC[type];
    if (!numeric) throw new Error(`unsupported GGUF value type ${type}`);
    const chunk = new Uint8Array(numeric[0]);
    numeric[1](new DataView(chunk.buffer), 0, v as number | bigint);
    sink.bytes(chunk);
  }
}

function writeValue(sink: ByteSink, value: GgufValue): void {
  sink.u32(value.type);
  if (value.type !== GgufValueType.Array) {
    writeScalar(sink, value.type, value.value);
    return;
  }
  sink.u32(value.itemType);
  sink.u64(value.value.length);
  const numeric = NUMERIC[value.itemType];
  if (!numeric) {
    for (let i = 0; i < value.value.length; i++) writeScalar(sink, value.itemType, value.value[i]);
    return;
  }
  // A numeric array in one chunk: a vocabulary's types and scores are hundreds of thousands of values.
  const [size, set] = numeric;
  const chunk = new Uint8Array(size * value.value.length);
  const view = new DataView(chunk.buffer);
  for (let i = 0; i < value.value.length; i++) set(view, i * size, value.value[i] as number | bigint);
  sink.bytes(chunk);
}

/** A tensor as the header describes it: its data may be produced later, one tensor at a time. */
export interface GgufTensorInfoToWrite {
  name: string;
  shape: readonly number[];
  type: GgmlType;
  byteLength: number;
}

function checkTensor(t: GgufTensorInfoToWrite): void {
  const count = t.shape.reduce((a, b) => a * b, 1);
  const block = GGML_BLOCK[t.type];
  if (t.shape[0] % block.elements !== 0) throw new Error(`tensor ${t.name}: first dimension must be a multiple of ${block.elements}`);
  const expected = (count / block.elements) * block.bytes;
  if (t.byteLength !== expected) throw new Error(`tensor ${t.name}: ${t.byteLength} bytes of data, expected ${expected}`);
}

/** Magic, metadata and tensor infos, padded to the data's alignment. */
function encodeHeader(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensorInfoToWrite[]): Uint8Array[] {
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
    offset += Math.ceil(t.byteLength / alignment) * alignment;
  }
  header.pad(alignment);
  return header.chunks;
}

const padding = (length: number) => new Uint8Array((GGUF_DEFAULT_ALIGNMENT - (length % GGUF_DEFAULT_ALIGNMENT)) % GGUF_DEFAULT_ALIGNMENT);

/** Serialises a GGUF file into chunks (header first, then tensor data). */
export function encodeGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Uint8Array[] {
  const infos = tensors.map((t) => ({ ...t, byteLength: t.data.length }));
  return [...encodeHeader(metadata, infos), ...tensors.flatMap((t) => [t.data, padding(t.data.length)])];
}

/** Writes a GGUF file to disk. */
export function writeGguf(path: string, metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): void {
  writeGgufStreamed(
    path,
    metadata,
    tensors.map((t) => ({ ...t, byteLength: t.data.length })),
    (i) => tensors[i].data,
  );
}

/** Writes a GGUF file whose tensor data is made one tensor at a time (`data(i)` for tensor i), for files larger than memory. */
export function writeGgufStreamed(
  path: string,
  metadata: ReadonlyMap<string, GgufValue>,
  tensors: readonly GgufTensorInfoToWrite[],
  data: (index: number) => Uint8Array,
): void {
  const fd = openSync(path, "w");
  try {
    // One write for the header: a vocabulary's arrays make it hundreds of thousands of small chunks.
    writeSync(fd, Buffer.concat(encodeHeader(metadata, tensors)));
    tensors.forEach((t, i) => {
      const bytes = data(i);
      if (bytes.length !== t.byteLength) throw new Error(`tensor ${t.name}: made ${bytes.length} bytes, declared ${t.byteLength}`);
      writeSync(fd, bytes);
      writeSync(fd, padding(bytes.length));
    });
  } finally {
    closeSync(fd);
  }
}
