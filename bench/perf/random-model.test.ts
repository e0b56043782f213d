import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dequantizeQ8_0, readGguf, readTensorBytes, writeGguf } from "../../models/gguf/index.js";
import { parameterCount, QWEN2_5_0_5B_SHAPE, TINY_QWEN2_SHAPE, writeRandomQwen2Model } from "./random-model.js";

describe("random qwen2 Q8_0 model", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-random-model-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("has Qwen2.5-0.5B's 494 M parameters (tied output embeddings)", () => {
    expect(parameterCount(QWEN2_5_0_5B_SHAPE)).toBe(494_032_768);
  });

  it("writes a qwen2 GGUF: 2-D weights Q8_0 with std ≈ 0.02, norms and biases F32, the tokenizer padded to the vocab", async () => {
    const shape = { ...TINY_QWEN2_SHAPE, vocab: 2100 };
    const { path, parameters } = await writeRandomQwen2Model({ path: join(dir, "tiny.gguf"), shape });
    const file = await readGguf(path);
    expect(file.metadata.get("general.architecture")).toBe("qwen2");
    expect(file.metadata.get("qwen2.attention.head_count_kv")).toBe(2);
    expect(file.tensors.reduce((sum, t) => sum + t.elementCount, 0)).toBe(parameters);
    const tokens = file.metadata.get("tokenizer.ggml.tokens") as string[];
    expect(tokens).toHaveLength(2100);
    expect(tokens[2099]).toBe("▁t2099");
    const byName = new Map(file.tensors.map((t) => [t.name, t]));
    expect(byName.get("token_embd.weight")).toMatchObject({ typeName: "Q8_0", dims: [64, 2100] });
    expect(byName.get("blk.1.attn_k.weight")).toMatchObject({ typeName: "Q8_0", dims: [64, 32] });
    expect(byName.get("blk.1.attn_k.bias")).toMatchObject({ typeName: "F32", dims: [32] });
    expect(byName.get("blk.0.ffn_down.weight")).toMatchObject({ typeName: "Q8_0", dims: [128, 64] });
    expect(byName.has("output.weight")).toBe(false);
    const values = dequantizeQ8_0(readTensorBytes(file, "blk.0.ffn_up.weight"));
    const std = Math.sqrt(values.reduce((sum, v) => sum + v * v, 0) / values.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
  });

  it("is deterministic per seed", async () => {
    const a = await writeRandomQwen2Model({ path: join(dir, "a.gguf"), shape: TINY_QWEN2_SHAPE, seed: 3 });
    const b = await writeRandomQwen2Model({ path: join(dir, "b.gguf"), shape: TINY_QWEN2_SHAPE, seed: 3 });
    const c = await writeRandomQwen2Model({ path: join(dir, "c.gguf"), shape: TINY_QWEN2_SHAPE, seed: 4 });
    const bytes = async (path: string) => Buffer.from(readTensorBytes(await readGguf(path), "blk.1.ffn_down.weight"));
    expect((await bytes(a.path)).equals(await bytes(b.path))).toBe(true);
    expect((await bytes(a.path)).equals(await bytes(c.path))).toBe(false);
  });

  it("streams lazily produced raw tensors through the writer and refuses a wrong byte count, leaving nothing behind", async () => {
    const path = join(dir, "bad.gguf");
    await expect(writeGguf({ path, kv: [], tensors: [{ name: "w", dims: [32, 2], type: 8, bytes: () => new Uint8Array(34) }] })).rejects.toMatchObject({ code: "GGUF_INVALID" });
    expect((await readdir(dir)).filter((name) => name.includes("bad"))).toEqual([]);
    await writeGguf({ path, kv: [], tensors: [{ name: "w", dims: [32, 2], type: 8, bytes: () => new Uint8Array(68) }] });
    expect((await readGguf(path)).tensors[0]).toMatchObject({ typeName: "Q8_0", byteSize: 68 });
  });
});
