import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { CouncilError } from "../../core/index.js";
import {
  GGML_MAX_DIMS,
  GGML_TYPE_F32,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPES,
  ggmlTensorByteSize,
  type GgufFile,
  type GgufKv,
  type GgufScalarType,
  type GgufTensorInfo,
  type GgufValue,
} from "./gguf-types.js";

const CHUNK = 1 << 20;
const TYPE_BY_ID = new Map<number, keyof typeof GGUF_VALUE_TYPES>(
  Object.entries(GGUF_VALUE_TYPES).map(([name, id]) => [id, name as keyof typeof GGUF_VALUE_TYPES]),
);
const SCALAR_SIZE: Record<GgufScalarType, number> = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, bool: 1, string: 8, u64: 8, i64: 8, f64: 8 };

function invalid(path: string, message: string, cause?: unknown): CouncilError {
  return new CouncilError("GGUF_INVALID", `${path}: ${message}. Rebuild or re-download the file.`, { cause, details: { path } });
}

/** Buffered sequential reader over a file descriptor; every read is bounds-checked against the file size. */
class Cursor {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  position = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly path: string,
  ) {}

  private ensure(length: number): { buf: Buffer; at: number } {
    if (length < 0 || this.position + length > this.size) throw invalid(this.path, `truncated file (needed ${length} bytes at offset ${this.position}, file has ${this.size})`);
    const at = this.position - this.bufferStart;
    if (at >= 0 && at + length <= this.buffer.length) return { buf: this.buffer, at };
    const want = Math.min(Math.max(length, CHUNK), this.size - this.position);
    const fresh = Buffer.alloc(want);
    let filled = 0;
    while (filled < want) {
      const read = readSync(this.fd, fresh, filled, want - filled, this.position + filled);
      if (read === 0) throw invalid(this.path, "unexpected end of file");
      filled += read;
    }
    this.buffer = fresh;
    this.bufferStart = this.position;
    return { buf: fresh, at: 0 };
  }

  u32(): number {
    const { buf, at } = this.ensure(4);
    this.position += 4;
    return buf.readUInt32LE(at);
  }

  /** A u64 that must fit a JS safe integer (counts, lengths, offsets). */
  u64Number(what: string): number {
    const { buf, at } = this.ensure(8);
    this.position += 8;
    const value = buf.readBigUInt64LE(at);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(this.path, `${what} is too large (${value})`);
    return Number(value);
  }

  string(what: string): string {
    const length = this.u64Number(`${what} length`);
    if (length > this.size - this.position) throw invalid(this.path, `${what} length ${length} runs past the end of the file`);
    const { buf, at } = this.ensure(length);
    this.position += length;
    return buf.toString("utf8", at, at + length);
  }

  scalar(type: GgufScalarType, what: string): number | bigint | boolean | string {
    if (type === "string") return this.string(what);
    const size = SCALAR_SIZE[type];
    const { buf, at } = this.ensure(size);
    this.position += size;
    switch (type) {
      case "u8": return buf.readUInt8(at);
      case "i8": return buf.readInt8(at);
      case "u16": return buf.readUInt16LE(at);
      case "i16": return buf.readInt16LE(at);
      case "u32": return buf.readUInt32LE(at);
      case "i32": return buf.readInt32LE(at);
      case "f32": return buf.readFloatLE(at);
      case "f64": return buf.readDoubleLE(at);
      case "u64": return buf.readBigUInt64LE(at);
      case "i64": return buf.readBigInt64LE(at);
      case "bool": {
        const byte = buf.readUInt8(at);
        if (byte > 1) throw invalid(this.path, `${what} is not a valid bool (${byte})`);
        return byte === 1;
      }
    }
  }
}

function readKv(cursor: Cursor, path: string): GgufKv {
  const key = cursor.string("metadata key");
  const typeId = cursor.u32();
  const type = TYPE_BY_ID.get(typeId);
  if (type === undefined) throw invalid(path, `metadata "${key}" has unknown value type ${typeId}`);
  if (type !== "array") return { key, type, value: cursor.scalar(type, key) } as GgufKv;
  const itemTypeId = cursor.u32();
  const itemType = TYPE_BY_ID.get(itemTypeId);
  if (itemType === undefined || itemType === "array") throw invalid(path, `metadata "${key}" has unsupported array item type ${itemTypeId}`);
  const count = cursor.u64Number(`array "${key}" length`);
  // Every item takes at least one byte (strings at least eight): a count larger than the rest of the file is corrupt.
  if (count * SCALAR_SIZE[itemType] > cursor.size - cursor.position) throw invalid(path, `array "${key}" claims ${count} items, more than the file holds`);
  const value: (number | bigint | boolean | string)[] = new Array<number | bigint | boolean | string>(count);
  for (let index = 0; index < count; index++) value[index] = cursor.scalar(itemType, key);
  return { key, type: "array", itemType, value };
}

/**
 * Reads a GGUF v2/v3 header: metadata, tensor infos and offsets. Tensor data is not read (see {@link readTensorF32}).
 * Any malformed input (bad magic, version, truncation, absurd counts, overlapping or out-of-file tensors)
 * throws `CouncilError("GGUF_INVALID")`; a missing file throws `MODEL_NOT_FOUND`.
 */
export function readGguf(path: string): GgufFile {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (cause) {
    throw new CouncilError("MODEL_NOT_FOUND", `${path}: cannot open GGUF file (${(cause as NodeJS.ErrnoException).code ?? "error"}). Check the path.`, { cause, details: { path } });
  }
  try {
    const size = fstatSync(fd).size;
    const cursor = new Cursor(fd, size, path);
    if (size < 24) throw invalid(path, `file is too small to be GGUF (${size} bytes)`);
    const magic = cursor.u32();
    if (magic !== GGUF_MAGIC) throw invalid(path, "bad magic (not a GGUF file)");
    const version = cursor.u32();
    if (version !== 2 && version !== 3) throw invalid(path, `unsupported GGUF version ${version} (expected 2 or 3)`);
    const tensorCount = cursor.u64Number("tensor count");
    const kvCount = cursor.u64Number("metadata count");
    if (tensorCount > size || kvCount > size) throw invalid(path, "tensor or metadata count larger than the file");

    const kv: GgufKv[] = [];
    const metadata = new Map<string, GgufValue>();
    for (let index = 0; index < kvCount; index++) {
      const entry = readKv(cursor, path);
      if (metadata.has(entry.key)) throw invalid(path, `duplicate metadata key "${entry.key}"`);
      kv.push(entry);
      metadata.set(entry.key, entry.value);
    }

    const alignmentValue = metadata.get("general.alignment") ?? GGUF_DEFAULT_ALIGNMENT;
    const alignment = Number(alignmentValue);
    if (typeof alignmentValue !== "number" || !Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
      throw invalid(path, `general.alignment must be a power of two (got ${String(alignmentValue)})`);
    }

    const raw: Array<Omit<GgufTensorInfo, "offset"> & { relative: number }> = [];
    const names = new Set<string>();
    for (let index = 0; index < tensorCount; index++) {
      const name = cursor.string("tensor name");
      if (names.has(name)) throw invalid(path, `duplicate tensor "${name}"`);
      names.add(name);
      const nDims = cursor.u32();
      if (nDims < 1 || nDims > GGML_MAX_DIMS) throw invalid(path, `tensor "${name}" has ${nDims} dimensions (1..${GGML_MAX_DIMS})`);
      const dims: number[] = [];
      for (let d = 0; d < nDims; d++) {
        const dim = cursor.u64Number(`tensor "${name}" dimension`);
        if (dim < 1) throw invalid(path, `tensor "${name}" has an empty dimension`);
        dims.push(dim);
      }
      const type = cursor.u32();
      const typeInfo = GGML_TYPES[type];
      if (typeInfo === undefined) throw invalid(path, `tensor "${name}" has unknown ggml type ${type}`);
      const relative = cursor.u64Number(`tensor "${name}" offset`);
      if (relative % alignment !== 0) throw invalid(path, `tensor "${name}" offset ${relative} is not aligned to ${alignment}`);
      const elementCount = dims.reduce((product, dim) => product * dim, 1);
      if (!Number.isSafeInteger(elementCount)) throw invalid(path, `tensor "${name}" is too large`);
      const byteSize = ggmlTensorByteSize(type, dims);
      if (byteSize === undefined) throw invalid(path, `tensor "${name}" row length ${dims[0]} is not a multiple of the ${typeInfo.name} block size`);
      raw.push({ name, dims, type, typeName: typeInfo.name, relative, byteSize, elementCount });
    }

    const dataOffset = Math.ceil(cursor.position / alignment) * alignment;
    const tensors: GgufTensorInfo[] = raw.map(({ relative, ...rest }) => ({ ...rest, offset: dataOffset + relative }));
    const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
    let end = dataOffset;
    for (const tensor of byOffset) {
      if (tensor.offset < end) throw invalid(path, `tensor "${tensor.name}" overlaps the previous tensor`);
      end = tensor.offset + tensor.byteSize;
      if (end > size) throw invalid(path, `tensor "${tensor.name}" data runs past the end of the file (truncated?)`);
    }
    return { path, version, alignment, kv, metadata, tensors, dataOffset, fileSize: size };
  } finally {
    closeSync(fd);
  }
}

function findTensor(file: GgufFile, name: string): GgufTensorInfo {
  const tensor = file.tensors.find((candidate) => candidate.name === name);
  if (tensor === undefined) throw invalid(file.path, `no tensor named "${name}"`);
  return tensor;
}

function readTensorInto(file: GgufFile, tensor: GgufTensorInfo, bytes: Uint8Array): void {
  const fd = openSync(file.path, "r");
  try {
    let filled = 0;
    while (filled < bytes.length) {
      const read = readSync(fd, bytes, filled, bytes.length - filled, tensor.offset + filled);
      if (read === 0) throw invalid(file.path, `tensor "${tensor.name}" is truncated`);
      filled += read;
    }
  } finally {
    closeSync(fd);
  }
}

/** Reads one F32 tensor's data. Throws GGUF_INVALID for other types. */
export function readTensorF32(file: GgufFile, name: string): Float32Array {
  const tensor = findTensor(file, name);
  if (tensor.type !== GGML_TYPE_F32) throw invalid(file.path, `tensor "${name}" is ${tensor.typeName}, only F32 can be decoded`);
  const out = new Float32Array(tensor.elementCount);
  readTensorInto(file, tensor, new Uint8Array(out.buffer));
  return out;
}

/** Reads one tensor's raw bytes, whatever its ggml type. */
export function readTensorBytes(file: GgufFile, name: string): Uint8Array {
  const tensor = findTensor(file, name);
  const out = new Uint8Array(tensor.byteSize);
  readTensorInto(file, tensor, out);
  return out;
}

/** Typed metadata getters that throw GGUF_INVALID when the key is absent or has another type. */
export function ggufString(file: GgufFile, key: string): string {
  const value = file.metadata.get(key);
  if (typeof value !== "string") throw invalid(file.path, `metadata "${key}" is missing or not a string`);
  return value;
}

export function ggufNumber(file: GgufFile, key: string): number {
  const value = file.metadata.get(key);
  if (typeof value === "bigint") return Number(value);
  if (typeof value !== "number") throw invalid(file.path, `metadata "${key}" is missing or not a number`);
  return value;
}
