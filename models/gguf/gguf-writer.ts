import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { CouncilError } from "../../core/index.js";
import {
  GGML_MAX_DIMS,
  GGML_TYPE_F32,
  GGML_TYPES,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_TYPES,
  GGUF_VERSION,
  ggmlTensorByteSize,
  type GgufKv,
  type GgufScalarType,
} from "./gguf-types.js";

/**
 * A tensor to write: F32 data, or raw bytes of another ggml type (e.g. Q8_0 from `quantizeQ8_0`); either given or
 * produced lazily, one tensor at a time, so big models stream.
 */
export type GgufTensorInput =
  | { name: string; dims: readonly number[]; data: Float32Array | (() => Float32Array) }
  | { name: string; dims: readonly number[]; type: number; bytes: Uint8Array | (() => Uint8Array) };

export interface WriteGgufOptions {
  path: string;
  kv: readonly GgufKv[];
  tensors: readonly GgufTensorInput[];
}

function invalid(message: string, details?: Record<string, unknown>): CouncilError {
  return new CouncilError("GGUF_INVALID", message, details ? { details } : {});
}

class HeaderBuilder {
  private readonly parts: Buffer[] = [];
  length = 0;

  push(buffer: Buffer): void {
    this.parts.push(buffer);
    this.length += buffer.length;
  }

  u32(value: number): void {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32LE(value);
    this.push(buffer);
  }

  u64(value: number | bigint): void {
    const buffer = Buffer.alloc(8);
    buffer.writeBigUInt64LE(BigInt(value));
    this.push(buffer);
  }

  string(value: string): void {
    const bytes = Buffer.from(value, "utf8");
    this.u64(bytes.length);
    this.push(bytes);
  }

  scalar(type: GgufScalarType, value: unknown, key: string): void {
    const bad = (): CouncilError => invalid(`metadata "${key}": ${String(value)} is not a valid ${type}`, { key });
    if (type === "string") {
      if (typeof value !== "string") throw bad();
      this.string(value);
      return;
    }
    if (type === "bool") {
      if (typeof value !== "boolean") throw bad();
      this.push(Buffer.from([value ? 1 : 0]));
      return;
    }
    if (type === "u64" || type === "i64") {
      if (typeof value !== "bigint" && !(typeof value === "number" && Number.isInteger(value))) throw bad();
      const buffer = Buffer.alloc(8);
      try {
        if (type === "u64") buffer.writeBigUInt64LE(BigInt(value));
        else buffer.writeBigInt64LE(BigInt(value));
      } catch (cause) {
        throw new CouncilError("GGUF_INVALID", `metadata "${key}": ${String(value)} is out of range for ${type}`, { cause });
      }
      this.push(buffer);
      return;
    }
    if (typeof value !== "number" || Number.isNaN(value)) throw bad();
    const sizes = { u8: 1, i8: 1, u16: 2, i16: 2, u32: 4, i32: 4, f32: 4, f64: 8 } as const;
    const buffer = Buffer.alloc(sizes[type]);
    try {
      switch (type) {
        case "u8": buffer.writeUInt8(value); break;
        case "i8": buffer.writeInt8(value); break;
        case "u16": buffer.writeUInt16LE(value); break;
        case "i16": buffer.writeInt16LE(value); break;
        case "u32": buffer.writeUInt32LE(value); break;
        case "i32": buffer.writeInt32LE(value); break;
        case "f32": buffer.writeFloatLE(value); break;
        case "f64": buffer.writeDoubleLE(value); break;
      }
    } catch (cause) {
      throw new CouncilError("GGUF_INVALID", `metadata "${key}": ${value} is out of range for ${type}`, { cause });
    }
    this.push(buffer);
  }

  concat(): Buffer {
    return Buffer.concat(this.parts, this.length);
  }
}

interface PlannedTensor {
  input: GgufTensorInput;
  type: number;
  byteSize: number;
  relative: number;
}

function planTensors(tensors: readonly GgufTensorInput[], alignment: number): PlannedTensor[] {
  const names = new Set<string>();
  let relative = 0;
  return tensors.map((input) => {
    if (input.name.length === 0 || Buffer.byteLength(input.name) > 63) throw invalid(`tensor name "${input.name}" must be 1..63 bytes (GGML_MAX_NAME)`);
    if (names.has(input.name)) throw invalid(`duplicate tensor "${input.name}"`);
    names.add(input.name);
    if (input.dims.length < 1 || input.dims.length > GGML_MAX_DIMS || input.dims.some((dim) => !Number.isSafeInteger(dim) || dim < 1)) {
      throw invalid(`tensor "${input.name}" has invalid dims [${input.dims.join(", ")}]`);
    }
    const type = "type" in input ? input.type : GGML_TYPE_F32;
    if (GGML_TYPES[type] === undefined) throw invalid(`tensor "${input.name}" has unknown ggml type ${type}`);
    const byteSize = ggmlTensorByteSize(type, input.dims);
    if (byteSize === undefined) throw invalid(`tensor "${input.name}": row length is not a multiple of the block size`);
    if ("bytes" in input && typeof input.bytes !== "function" && input.bytes.length !== byteSize) throw invalid(`tensor "${input.name}" has ${input.bytes.length} bytes, expected ${byteSize}`);
    if ("data" in input && typeof input.data !== "function" && input.data.length * 4 !== byteSize) {
      throw invalid(`tensor "${input.name}" has ${input.data.length} values, expected ${byteSize / 4}`);
    }
    const planned = { input, type, byteSize, relative };
    relative += Math.ceil(byteSize / alignment) * alignment;
    return planned;
  });
}

function tensorBytes(planned: PlannedTensor): Uint8Array {
  const { input } = planned;
  if ("bytes" in input) {
    const bytes = typeof input.bytes === "function" ? input.bytes() : input.bytes;
    if (bytes.length !== planned.byteSize) throw invalid(`tensor "${input.name}" produced ${bytes.length} bytes, expected ${planned.byteSize}`);
    return bytes;
  }
  const data = typeof input.data === "function" ? input.data() : input.data;
  if (data.length * 4 !== planned.byteSize) throw invalid(`tensor "${input.name}" produced ${data.length} values, expected ${planned.byteSize / 4}`);
  for (let index = 0; index < data.length; index++) {
    if (!Number.isFinite(data[index])) throw invalid(`tensor "${input.name}" has a non-finite value at index ${index}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/**
 * Writes a GGUF v3 file: header first, then each tensor in turn (lazy tensors are produced one at a time),
 * into a temp file beside `path`, fsynced, then renamed over `path`. On any error the temp file is removed
 * and `path` is untouched. Alignment comes from a `general.alignment` u32 entry (default 32).
 */
export async function writeGguf({ path, kv, tensors }: WriteGgufOptions): Promise<{ path: string; bytes: number }> {
  const keys = new Set<string>();
  for (const entry of kv) {
    if (keys.has(entry.key)) throw invalid(`duplicate metadata key "${entry.key}"`);
    keys.add(entry.key);
  }
  const alignmentEntry = kv.find((entry) => entry.key === "general.alignment");
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (alignmentEntry !== undefined) {
    if (alignmentEntry.type !== "u32" || alignmentEntry.value <= 0 || (alignmentEntry.value & (alignmentEntry.value - 1)) !== 0) {
      throw invalid("general.alignment must be a u32 power of two");
    }
    alignment = alignmentEntry.value;
  }

  const header = new HeaderBuilder();
  header.u32(GGUF_MAGIC);
  header.u32(GGUF_VERSION);
  header.u64(tensors.length);
  header.u64(kv.length);
  for (const entry of kv) {
    header.string(entry.key);
    header.u32(GGUF_VALUE_TYPES[entry.type]);
    if (entry.type === "array") {
      header.u32(GGUF_VALUE_TYPES[entry.itemType]);
      header.u64(entry.value.length);
      for (const item of entry.value) header.scalar(entry.itemType, item, entry.key);
    } else {
      header.scalar(entry.type, entry.value, entry.key);
    }
  }
  const planned = planTensors(tensors, alignment);
  for (const tensor of planned) {
    header.string(tensor.input.name);
    header.u32(tensor.input.dims.length);
    for (const dim of tensor.input.dims) header.u64(dim);
    header.u32(tensor.type);
    header.u64(tensor.relative);
  }
  const headerBytes = header.concat();
  const dataOffset = Math.ceil(headerBytes.length / alignment) * alignment;

  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const handle = await open(temp, "wx");
  let position = 0;
  const write = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position);
      done += bytesWritten;
      position += bytesWritten;
    }
  };
  try {
    try {
      await write(headerBytes);
      await write(new Uint8Array(dataOffset - headerBytes.length));
      for (const tensor of planned) {
        const bytes = tensorBytes(tensor);
        await write(bytes);
        const padded = Math.ceil(bytes.length / alignment) * alignment;
        if (padded > bytes.length) await write(new Uint8Array(padded - bytes.length));
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    if ((error as NodeJS.ErrnoException).code === "ENOSPC") {
      throw new CouncilError("DISK_FULL", `Not enough disk space to write ${path}; free some space and retry.`, { cause: error });
    }
    throw error;
  }
  return { path, bytes: position };
}
