import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GGML_TYPE_F16, readGguf, readTensorF32, writeGguf, type GgufKv } from "./index.js";

const KV: GgufKv[] = [
  { key: "general.architecture", type: "string", value: "llama" },
  { key: "general.alignment", type: "u32", value: 64 },
  { key: "t.u8", type: "u8", value: 255 },
  { key: "t.i8", type: "i8", value: -128 },
  { key: "t.u16", type: "u16", value: 65535 },
  { key: "t.i16", type: "i16", value: -32768 },
  { key: "t.u32", type: "u32", value: 4294967295 },
  { key: "t.i32", type: "i32", value: -2147483648 },
  { key: "t.f32", type: "f32", value: 0.5 },
  { key: "t.f64", type: "f64", value: Math.PI },
  { key: "t.u64", type: "u64", value: 18446744073709551615n },
  { key: "t.i64", type: "i64", value: -9223372036854775808n },
  { key: "t.bool", type: "bool", value: true },
  { key: "t.unicode", type: "string", value: "▁héllo 🙂" },
  { key: "t.strings", type: "array", itemType: "string", value: ["<unk>", "", "▁a"] },
  { key: "t.floats", type: "array", itemType: "f32", value: [1.5, -2, 0] },
  { key: "t.ints", type: "array", itemType: "i32", value: [1, -2, 3] },
  { key: "t.bools", type: "array", itemType: "bool", value: [true, false] },
  { key: "t.empty", type: "array", itemType: "u64", value: [] },
];

describe("GGUF reader/writer", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-gguf-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function writeSample(path = join(dir, "a.gguf")): Promise<string> {
    const weights = Float32Array.from({ length: 12 }, (_, index) => index / 7 - 0.5);
    await writeGguf({
      path,
      kv: KV,
      tensors: [
        { name: "w", dims: [4, 3], data: weights },
        { name: "lazy", dims: [5], data: () => new Float32Array([1, 2, 3, 4, 5]) },
        { name: "half", dims: [8, 2], type: GGML_TYPE_F16, bytes: new Uint8Array(32).fill(7) },
        { name: "q8", dims: [32], type: 8, bytes: new Uint8Array(34) },
      ],
    });
    return path;
  }

  it("round-trips metadata of every type, F32 tensors, and shapes/offsets of other types", async () => {
    const path = await writeSample();
    const file = readGguf(path);
    expect(file.version).toBe(3);
    expect(file.alignment).toBe(64);
    expect(file.kv).toEqual(KV);
    expect(file.metadata.get("t.u64")).toBe(18446744073709551615n);
    expect(file.tensors.map((tensor) => [tensor.name, tensor.dims, tensor.typeName, tensor.byteSize])).toEqual([
      ["w", [4, 3], "F32", 48],
      ["lazy", [5], "F32", 20],
      ["half", [8, 2], "F16", 32],
      ["q8", [32], "Q8_0", 34],
    ]);
    for (const tensor of file.tensors) expect((tensor.offset - file.dataOffset) % 64).toBe(0);
    expect(file.dataOffset % 64).toBe(0);
    expect(Array.from(readTensorF32(file, "w"))).toEqual(Array.from(Float32Array.from({ length: 12 }, (_, index) => index / 7 - 0.5)));
    expect(Array.from(readTensorF32(file, "lazy"))).toEqual([1, 2, 3, 4, 5]);
    const bytes = await readFile(path);
    const half = file.tensors.find((tensor) => tensor.name === "half");
    expect([...bytes.subarray(half?.offset, (half?.offset ?? 0) + 32)]).toEqual(new Array<number>(32).fill(7));
    expect(() => readTensorF32(file, "half")).toThrow(expect.objectContaining({ code: "GGUF_INVALID" }));
    // Nothing but the target file is left behind.
    expect(await readdir(dir)).toEqual(["a.gguf"]);
  });

  it("rejects a truncated file at every cut point with GGUF_INVALID", async () => {
    const path = await writeSample();
    const full = await readFile(path);
    const cut = join(dir, "cut.gguf");
    const tensorEnd = Math.max(...readGguf(path).tensors.map((tensor) => tensor.offset + tensor.byteSize));
    for (let length = 0; length < tensorEnd; length += 7) {
      await writeFile(cut, full.subarray(0, length));
      expect(() => readGguf(cut), `length ${length}`).toThrow(expect.objectContaining({ code: "GGUF_INVALID" }));
    }
    await truncate(path, tensorEnd - 1);
    expect(() => readGguf(path)).toThrow(/truncated/);
  });

  it("rejects bad magic, bad version, absurd counts and random corruption without crashing", async () => {
    const path = await writeSample();
    const full = await readFile(path);
    const bad = join(dir, "bad.gguf");
    const patched = (offset: number, bytes: number[]): Buffer => {
      const copy = Buffer.from(full);
      copy.set(bytes, offset);
      return copy;
    };
    await writeFile(bad, patched(0, [0x47, 0x47, 0x55, 0x47]));
    expect(() => readGguf(bad)).toThrow(/bad magic/);
    await writeFile(bad, patched(4, [9, 0, 0, 0]));
    expect(() => readGguf(bad)).toThrow(/version 9/);
    await writeFile(bad, patched(8, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0]));
    expect(() => readGguf(bad)).toThrow(expect.objectContaining({ code: "GGUF_INVALID" }));
    // Flip single bytes across the header: each result must be either readable or a GGUF_INVALID, never another error.
    const headerEnd = readGguf(path).dataOffset;
    for (let offset = 0; offset < headerEnd; offset += 3) {
      await writeFile(bad, patched(offset, [(full[offset] ?? 0) ^ 0xa5]));
      try {
        readGguf(bad);
      } catch (error) {
        expect(error, `offset ${offset}`).toMatchObject({ code: "GGUF_INVALID" });
      }
    }
    await expect(async () => readGguf(join(dir, "missing.gguf"))).rejects.toMatchObject({ code: "MODEL_NOT_FOUND" });
  });

  it("refuses invalid input to the writer and leaves no partial file", async () => {
    const path = join(dir, "x.gguf");
    await expect(writeGguf({ path, kv: [], tensors: [{ name: "w", dims: [4], data: new Float32Array(3) }] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    await expect(writeGguf({ path, kv: [], tensors: [{ name: "w", dims: [2], data: () => new Float32Array([1, Number.NaN]) }] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    await expect(writeGguf({ path, kv: [{ key: "a", type: "u8", value: 256 }], tensors: [] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    await expect(writeGguf({ path, kv: [{ key: "general.alignment", type: "u32", value: 48 }], tensors: [] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    await expect(writeGguf({ path, kv: [{ key: "a", type: "bool", value: true }, { key: "a", type: "bool", value: false }], tensors: [] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    await expect(writeGguf({ path, kv: [], tensors: [{ name: "q", dims: [31], type: 8, bytes: new Uint8Array(34) }] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    expect(await readdir(dir)).toEqual([]);
  });

  it("replaces an existing file atomically", async () => {
    const path = await writeSample();
    await writeGguf({ path, kv: [{ key: "only", type: "string", value: "new" }], tensors: [] });
    const file = readGguf(path);
    expect(file.kv).toEqual([{ key: "only", type: "string", value: "new" }]);
    expect(file.tensors).toEqual([]);
  });
});
