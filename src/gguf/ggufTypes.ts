/** GGUF file-format constants (version 3), as llama.cpp's gguf.h defines them. */

/** "GGUF" read as a little-endian uint32. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
/** Tensor data alignment, in bytes (the format's default). */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** Types of metadata values. */
export enum GgufValueType {
  Uint8 = 0,
  Int8 = 1,
  Uint16 = 2,
  Int16 = 3,
  Uint32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  Uint64 = 10,
  Int64 = 11,
  Float64 = 12,
}

/** The ggml tensor types this project writes. */
export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q8_0 = 8,
}

/** Elements per quantisation block and bytes per block, per type. */
export const GGML_BLOCK: Record<GgmlType, { elements: number; bytes: number }> = {
  [GgmlType.F32]: { elements: 1, bytes: 4 },
  [GgmlType.F16]: { elements: 1, bytes: 2 },
  [GgmlType.Q4_0]: { elements: 32, bytes: 18 },
  [GgmlType.Q8_0]: { elements: 32, bytes: 34 },
};

type NumericValueType = Exclude<GgufValueType, GgufValueType.String | GgufValueType.Bool | GgufValueType.Array>;

/** A typed metadata value: the writer needs the type, JavaScript values do not carry it. */
export type GgufValue =
  | { type: GgufValueType.String; value: string }
  | { type: NumericValueType; value: number | bigint }
  | { type: GgufValueType.Bool; value: boolean }
  | { type: GgufValueType.Array; itemType: GgufValueType.String; value: readonly string[] }
  | { type: GgufValueType.Array; itemType: NumericValueType | GgufValueType.Bool; value: ArrayLike<number | bigint | boolean> };

/** Shorthands for metadata values. */
export const gguf = {
  str: (value: string): GgufValue => ({ type: GgufValueType.String, value }),
  u32: (value: number): GgufValue => ({ type: GgufValueType.Uint32, value }),
  i32: (value: number): GgufValue => ({ type: GgufValueType.Int32, value }),
  f32: (value: number): GgufValue => ({ type: GgufValueType.Float32, value }),
  bool: (value: boolean): GgufValue => ({ type: GgufValueType.Bool, value }),
  strings: (value: readonly string[]): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.String, value }),
  i32s: (value: ArrayLike<number>): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.Int32, value }),
  f32s: (value: ArrayLike<number>): GgufValue => ({ type: GgufValueType.Array, itemType: GgufValueType.Float32, value }),
};

/** A tensor to write: shape in ggml order (ne0 = the contiguous dimension first), data already encoded. */
export interface GgufTensor {
  name: string;
  shape: readonly number[];
  type: GgmlType;
  data: Uint8Array;
}
