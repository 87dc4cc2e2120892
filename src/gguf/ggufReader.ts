/**
 * Reads a GGUF file's header (metadata and tensor infos) without loading the
 * tensor data, and checks that the file is complete. Used to give a clear,
 * one-line error before llama.cpp sees a bad file, and by tests.
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { GGML_BLOCK, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, type GgmlType, type GgufValue, GgufValueType } from "./ggufTypes.js";

export type GgufMetadataValue = string | number | bigint | boolean | GgufMetadataValue[];

export interface GgufTensorInfo {
  name: string;
  shape: number[];
  type: number;
  offset: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufMetadataValue>;
  /** Each metadata value's GGUF type (and an array's item type), so a file can be rewritten faithfully. */
  valueTypes: Map<string, { type: GgufValueType; itemType?: GgufValueType }>;
  tensors: GgufTensorInfo[];
  dataOffset: number;
  fileSize: number;
}

/** Thrown for any file that is not a complete, readable GGUF file. */
export class GgufFormatError extends Error {}

/** A cursor over a file that reads ahead in chunks. */
class FileCursor {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position = 0;
  constructor(
    private readonly fd: number,
    readonly size: number,
  ) {}

  private need(n: number): number {
    if (this.position + n > this.size) throw new GgufFormatError("the file ends inside its header (truncated)");
    const rel = this.position - this.bufferStart;
    if (rel >= 0 && rel + n <= this.buffer.length) return rel;
    const length = Math.min(Math.max(n, 1 << 20), this.size - this.position);
    this.buffer = Buffer.alloc(length);
    readSync(this.fd, this.buffer, 0, length, this.position);
    this.bufferStart = this.position;
    return 0;
  }
  private take<T>(n: number, read: (b: Buffer, at: number) => T): T {
    const at = this.need(n);
    this.position += n;
    return read(this.buffer, at);
  }
  u8 = () => this.take(1, (b, at) => b.readUInt8(at));
  i8 = () => this.take(1, (b, at) => b.readInt8(at));
  u16 = () => this.take(2, (b, at) => b.readUInt16LE(at));
  i16 = () => this.take(2, (b, at) => b.readInt16LE(at));
  u32 = () => this.take(4, (b, at) => b.readUInt32LE(at));
  i32 = () => this.take(4, (b, at) => b.readInt32LE(at));
  f32 = () => this.take(4, (b, at) => b.readFloatLE(at));
  f64 = () => this.take(8, (b, at) => b.readDoubleLE(at));
  i64 = () => this.take(8, (b, at) => b.readBigInt64LE(at));
  u64(): number {
    const v = this.take(8, (b, at) => b.readBigUInt64LE(at));
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new GgufFormatError("a length in the header is implausibly large");
    return Number(v);
  }
  string(): string {
    const n = this.u64();
    if (n > this.size) throw new GgufFormatError("a string in the header is longer than the file");
    return this.take(n, (b, at) => b.toString("utf8", at, at + n));
  }
}

function readValue(c: FileCursor, type: number): GgufMetadataValue {
  switch (type) {
    case GgufValueType.Uint8:
      return c.u8();
    case GgufValueType.Int8:
      return c.i8();
    case GgufValueType.Uint16:
      return c.u16();
    case GgufValueType.Int16:
      return c.i16();
    case GgufValueType.Uint32:
      return c.u32();
    case GgufValueType.Int32:
      return c.i32();
    case GgufValueType.Float32:
      return c.f32();
    case GgufValueType.Bool:
      return c.u8() !== 0;
    case GgufValueType.String:
      return c.string();
    case GgufValueType.Uint64:
      return c.u64();
    case GgufValueType.Int64:
      return c.i64();
    case GgufValueType.Float64:
      return c.f64();
    case GgufValueType.Array: {
      const itemType = c.u32();
      const n = c.u64();
      if (n > c.size) throw new GgufFormatError("an array in the header is longer than the file");
      const out: GgufMetadataValue[] = new Array(n);
      for (let i = 0; i < n; i++) out[i] = readValue(c, itemType);
      return out;
    }
    default:
      throw new GgufFormatError(`unknown metadata value type ${type}`);
  }
}

/** Bytes of a tensor's data (0 for a type this project does not know). */
export function tensorBytes(t: GgufTensorInfo): number {
  const block = GGML_BLOCK[t.type as GgmlType];
  if (!block) return 0;
  const count = t.shape.reduce((a, b) => a * b, 1);
  return (count / block.elements) * block.bytes;
}

function readTensorInfo(c: FileCursor): GgufTensorInfo {
  const name = c.string();
  const dims = c.u32();
  if (dims > 8) throw new GgufFormatError(`tensor ${name} has ${dims} dimensions`);
  const shape: number[] = [];
  for (let d = 0; d < dims; d++) shape.push(c.u64());
  return { name, shape, type: c.u32(), offset: c.u64() };
}

function parse(c: FileCursor): GgufHeader {
  if (c.size < 8 || c.u32() !== GGUF_MAGIC) throw new GgufFormatError("not a GGUF file (bad magic)");
  const version = c.u32();
  if (version < 2 || version > 3) throw new GgufFormatError(`unsupported GGUF version ${version}`);
  const tensorCount = c.u64();
  const kvCount = c.u64();
  const metadata = new Map<string, GgufMetadataValue>();
  const valueTypes = new Map<string, { type: GgufValueType; itemType?: GgufValueType }>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string();
    const type = c.u32();
    const start = c.position;
    metadata.set(key, readValue(c, type));
    const end = c.position;
    c.position = start;
    valueTypes.set(key, type === GgufValueType.Array ? { type, itemType: c.u32() } : { type });
    c.position = end;
  }
  const tensors: GgufTensorInfo[] = [];
  for (let i = 0; i < tensorCount; i++) tensors.push(readTensorInfo(c));
  const alignment = Number(metadata.get("general.alignment") ?? GGUF_DEFAULT_ALIGNMENT);
  const dataOffset = Math.ceil(c.position / alignment) * alignment;
  for (const t of tensors) {
    const end = dataOffset + t.offset + tensorBytes(t);
    if (end > c.size) throw new GgufFormatError(`tensor ${t.name} ends at byte ${end} but the file has ${c.size} bytes (truncated)`);
  }
  return { version, metadata, valueTypes, tensors, dataOffset, fileSize: c.size };
}

/** Reads and checks a GGUF header. Throws GgufFormatError (or a file-system error) naming the problem. */
export function readGgufHeader(path: string): GgufHeader {
  const fd = openSync(path, "r");
  try {
    return parse(new FileCursor(fd, fstatSync(fd).size));
  } finally {
    closeSync(fd);
  }
}

/** Every metadata value with its own GGUF type, ready to be written again (a rewrite changes a few of them). */
export function typedMetadata(h: GgufHeader): Map<string, GgufValue> {
  const out = new Map<string, GgufValue>();
  for (const [key, value] of h.metadata) {
    const t = h.valueTypes.get(key)!;
    out.set(key, (t.type === GgufValueType.Array ? { type: t.type, itemType: t.itemType, value } : { type: t.type, value }) as GgufValue);
  }
  return out;
}

/** A tensor's data, read from the open file the header came from. */
export function readTensorData(fd: number, h: GgufHeader, t: GgufTensorInfo): Uint8Array {
  const bytes = new Uint8Array(tensorBytes(t));
  readSync(fd, bytes, 0, bytes.length, h.dataOffset + t.offset);
  return bytes;
}

/** Bytes of one row (ne0 elements) of a tensor type this project knows. */
export function rowBytes(type: GgmlType, ne0: number): number {
  const block = GGML_BLOCK[type];
  if (!block) throw new RangeError(`tensors of ggml type ${type} cannot be copied here (F32, F16, Q4_0 and Q8_0 can)`);
  return (ne0 / block.elements) * block.bytes;
}
