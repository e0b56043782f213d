import { open } from "node:fs/promises";
import { CouncilError } from "../core/index.js";

/** Checks an adapter file before it is published or loaded. Throws ADAPTER_INVALID / ADAPTER_NOT_FOUND. */
export type AdapterFileValidator = (path: string) => Promise<void>;

const HEADER_BYTES = 1 << 20;
const GGUF_MAGIC = 0x46554747; // "GGUF" little-endian

/**
 * The registry's own cheap check (no base model needed): GGUF magic, version 2 or 3, at least one tensor, and
 * metadata `general.type = adapter`, `adapter.type = lora`. The runtime can inject the stricter
 * base-model shape check (models' `validateLoraAdapter`) through `AdapterRegistry.create({ validateAdapter })`.
 */
export const checkLoraGgufHeader: AdapterFileValidator = async (path) => {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new CouncilError(code === "ENOENT" ? "ADAPTER_NOT_FOUND" : "ADAPTER_INVALID", `Cannot open adapter ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  let bytes: Buffer;
  try {
    const buffer = Buffer.alloc(HEADER_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, HEADER_BYTES, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  const invalid = (why: string) => new CouncilError("ADAPTER_INVALID", `Adapter ${path} is not a valid LoRA GGUF: ${why}.`, { details: { path } });
  if (bytes.length < 24 || bytes.readUInt32LE(0) !== GGUF_MAGIC) throw invalid("bad magic (expected GGUF)");
  const version = bytes.readUInt32LE(4);
  if (version !== 2 && version !== 3) throw invalid(`unsupported GGUF version ${version}`);
  const tensorCount = bytes.readBigUInt64LE(8);
  const kvCount = bytes.readBigUInt64LE(16);
  if (tensorCount === 0n || tensorCount > 1_000_000n) throw invalid(`implausible tensor count ${tensorCount}`);
  if (kvCount > 100_000n) throw invalid(`implausible metadata count ${kvCount}`);
  const reader = new HeaderReader(bytes, 24);
  const strings = new Map<string, string>();
  try {
    for (let i = 0n; i < kvCount; i++) {
      const key = reader.string();
      const type = reader.u32();
      const value = reader.value(type);
      if (typeof value === "string") strings.set(key, value);
      if (strings.has("general.type") && strings.has("adapter.type")) break;
    }
  } catch (cause) {
    if (cause instanceof RangeError) throw invalid(`metadata is truncated or corrupt (${cause.message})`);
    throw cause;
  }
  if (strings.get("general.type") !== "adapter") throw invalid(`general.type is ${strings.get("general.type") ?? "missing"}, expected adapter`);
  if (strings.get("adapter.type") !== "lora") throw invalid(`adapter.type is ${strings.get("adapter.type") ?? "missing"}, expected lora`);
};

const FIXED_SIZES: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };

class HeaderReader {
  constructor(
    private readonly bytes: Buffer,
    private offset: number,
  ) {}

  private need(count: number): void {
    if (this.offset + count > this.bytes.length) throw new RangeError(`needs ${count} bytes at offset ${this.offset}`);
  }

  u32(): number {
    this.need(4);
    const value = this.bytes.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  u64(): number {
    this.need(8);
    const value = this.bytes.readBigUInt64LE(this.offset);
    this.offset += 8;
    if (value > BigInt(this.bytes.length)) throw new RangeError(`length ${value} exceeds the header`);
    return Number(value);
  }

  string(): string {
    const length = this.u64();
    this.need(length);
    const value = this.bytes.toString("utf8", this.offset, this.offset + length);
    this.offset += length;
    return value;
  }

  value(type: number): string | null {
    const fixed = FIXED_SIZES[type];
    if (fixed !== undefined) {
      this.need(fixed);
      this.offset += fixed;
      return null;
    }
    if (type === 8) return this.string();
    if (type === 9) {
      const itemType = this.u32();
      const count = this.u64();
      for (let i = 0; i < count; i++) this.value(itemType);
      return null;
    }
    throw new RangeError(`unknown metadata type ${type}`);
  }
}
