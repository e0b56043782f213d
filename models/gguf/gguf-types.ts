/** GGUF on-disk constants and the in-memory shapes of a parsed file. Spec: ggml/docs/gguf.md (v3). */

export const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian
export const GGUF_VERSION = 3;
export const GGUF_DEFAULT_ALIGNMENT = 32;
/** ggml tensors have at most four dimensions. */
export const GGML_MAX_DIMS = 4;

export const GGUF_VALUE_TYPES = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof GGUF_VALUE_TYPES, "array">;

/** One metadata entry. 64-bit integers are `bigint`; other numbers are `number`. */
export type GgufKv =
  | { key: string; type: "u8" | "i8" | "u16" | "i16" | "u32" | "i32" | "f32" | "f64"; value: number }
  | { key: string; type: "u64" | "i64"; value: bigint }
  | { key: string; type: "bool"; value: boolean }
  | { key: string; type: "string"; value: string }
  | { key: string; type: "array"; itemType: GgufScalarType; value: readonly (number | bigint | boolean | string)[] };

export type GgufValue = GgufKv["value"];

/** ggml tensor types: block size (elements) and bytes per block. Only F32 is decoded by this module. */
export const GGML_TYPES: Readonly<Record<number, { name: string; blockSize: number; typeSize: number }>> = {
  0: { name: "F32", blockSize: 1, typeSize: 4 },
  1: { name: "F16", blockSize: 1, typeSize: 2 },
  2: { name: "Q4_0", blockSize: 32, typeSize: 18 },
  3: { name: "Q4_1", blockSize: 32, typeSize: 20 },
  6: { name: "Q5_0", blockSize: 32, typeSize: 22 },
  7: { name: "Q5_1", blockSize: 32, typeSize: 24 },
  8: { name: "Q8_0", blockSize: 32, typeSize: 34 },
  9: { name: "Q8_1", blockSize: 32, typeSize: 36 },
  10: { name: "Q2_K", blockSize: 256, typeSize: 84 },
  11: { name: "Q3_K", blockSize: 256, typeSize: 110 },
  12: { name: "Q4_K", blockSize: 256, typeSize: 144 },
  13: { name: "Q5_K", blockSize: 256, typeSize: 176 },
  14: { name: "Q6_K", blockSize: 256, typeSize: 210 },
  15: { name: "Q8_K", blockSize: 256, typeSize: 292 },
  16: { name: "IQ2_XXS", blockSize: 256, typeSize: 66 },
  17: { name: "IQ2_XS", blockSize: 256, typeSize: 74 },
  18: { name: "IQ3_XXS", blockSize: 256, typeSize: 98 },
  19: { name: "IQ1_S", blockSize: 256, typeSize: 50 },
  20: { name: "IQ4_NL", blockSize: 32, typeSize: 18 },
  21: { name: "IQ3_S", blockSize: 256, typeSize: 110 },
  22: { name: "IQ2_S", blockSize: 256, typeSize: 82 },
  23: { name: "IQ4_XS", blockSize: 256, typeSize: 136 },
  24: { name: "I8", blockSize: 1, typeSize: 1 },
  25: { name: "I16", blockSize: 1, typeSize: 2 },
  26: { name: "I32", blockSize: 1, typeSize: 4 },
  27: { name: "I64", blockSize: 1, typeSize: 8 },
  28: { name: "F64", blockSize: 1, typeSize: 8 },
  29: { name: "IQ1_M", blockSize: 256, typeSize: 56 },
  30: { name: "BF16", blockSize: 1, typeSize: 2 },
  34: { name: "TQ1_0", blockSize: 256, typeSize: 54 },
  35: { name: "TQ2_0", blockSize: 256, typeSize: 66 },
};

export const GGML_TYPE_F32 = 0;
export const GGML_TYPE_F16 = 1;

/** A tensor as described in the file header. `offset` is absolute (from the file start). */
export interface GgufTensorInfo {
  name: string;
  /** ggml order: dims[0] is the fastest-varying (ne[0]). */
  dims: number[];
  /** ggml type id (see {@link GGML_TYPES}). */
  type: number;
  typeName: string;
  /** Absolute byte offset of the tensor data in the file. */
  offset: number;
  byteSize: number;
  elementCount: number;
}

export interface GgufFile {
  path: string;
  version: number;
  alignment: number;
  /** Entries in file order, with their types. */
  kv: GgufKv[];
  /** key → value, for convenience. */
  metadata: ReadonlyMap<string, GgufValue>;
  tensors: GgufTensorInfo[];
  /** Absolute offset where the tensor data section starts. */
  dataOffset: number;
  fileSize: number;
}

/** Returns byte size of a tensor, or undefined when the type is unknown or the row is not a whole number of blocks. */
export function ggmlTensorByteSize(type: number, dims: readonly number[]): number | undefined {
  const info = GGML_TYPES[type];
  if (info === undefined) return undefined;
  const rowLength = dims[0] ?? 1;
  if (rowLength % info.blockSize !== 0) return undefined;
  let count = 1;
  for (const dim of dims) count *= dim;
  return (count / info.blockSize) * info.typeSize;
}
