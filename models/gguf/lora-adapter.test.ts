import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTinyModel, TINY_MODEL_SHAPE } from "../../test/helpers/tiny-model.js";
import { readAdapterBaseInfo, readGguf, readLoraPair, validateAdapterForBase, writeGguf, writeLoraAdapter, writeZeroBAdapter } from "./index.js";

describe("LoRA adapter writer and validation", () => {
  let dir: string;
  let base: string;
  let otherBase: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-lora-"));
    base = await createTinyModel({ dir, seed: 1 });
    otherBase = await createTinyModel({ dir, seed: 2, name: "other.gguf", shape: { ...TINY_MODEL_SHAPE, embedding: 32 } });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the llama.cpp LoRA layout: metadata, [in, r] / [r, out] tensors, base hash", async () => {
    const out = join(dir, "a.gguf");
    const result = await writeLoraAdapter({ base, out, rank: 3, alpha: 6, targets: ["attn_q", "ffn_down", "token_embd.weight"], init: "zero-b", seed: 9 });
    expect(result.tensors).toEqual(["blk.0.attn_q.weight", "blk.0.ffn_down.weight", "blk.1.attn_q.weight", "blk.1.ffn_down.weight", "token_embd.weight"]);
    const file = readGguf(out);
    expect(file.metadata.get("general.type")).toBe("adapter");
    expect(file.metadata.get("adapter.type")).toBe("lora");
    expect(file.metadata.get("adapter.lora.alpha")).toBe(6);
    expect(file.metadata.get("general.architecture")).toBe("llama");
    expect(file.metadata.get("council.base.sha256")).toBe((await readAdapterBaseInfo(base)).sha256);
    const dims = Object.fromEntries(file.tensors.map((tensor) => [tensor.name, tensor.dims]));
    expect(dims["blk.0.attn_q.weight.lora_a"]).toEqual([64, 3]);
    expect(dims["blk.0.attn_q.weight.lora_b"]).toEqual([3, 64]);
    expect(dims["blk.1.ffn_down.weight.lora_a"]).toEqual([128, 3]);
    expect(dims["blk.1.ffn_down.weight.lora_b"]).toEqual([3, 64]);
    const vocab = readGguf(base).tensors.find((tensor) => tensor.name === "token_embd.weight")?.dims[1];
    expect(dims["token_embd.weight.lora_a"]).toEqual([3, vocab]);
    expect(dims["token_embd.weight.lora_b"]).toEqual([3, 64]);
    const pair = readLoraPair(out, "blk.0.attn_q.weight");
    expect(pair.b.every((value) => value === 0)).toBe(true);
    expect(pair.a.some((value) => value !== 0)).toBe(true);
    await expect(validateAdapterForBase({ adapter: out, base })).resolves.toMatchObject({ rank: 3, alpha: 6, targets: result.tensors });
  });

  it("is deterministic for a seed and accepts custom tensors", async () => {
    const one = join(dir, "r1.gguf");
    const two = join(dir, "r2.gguf");
    await writeLoraAdapter({ base, out: one, rank: 2, alpha: 2, targets: ["attn_v"], init: "random", seed: 5 });
    await writeLoraAdapter({ base, out: two, rank: 2, alpha: 2, targets: ["attn_v"], init: "random", seed: 5 });
    expect(readLoraPair(one, "blk.1.attn_v.weight")).toEqual(readLoraPair(two, "blk.1.attn_v.weight"));
    const custom = join(dir, "c.gguf");
    const a = Float32Array.from({ length: 64 * 2 }, (_, index) => index);
    const b = Float32Array.from({ length: 2 * 64 }, (_, index) => -index);
    await writeLoraAdapter({ base, out: custom, rank: 2, alpha: 2, targets: ["blk.0.attn_v.weight"], init: { tensors: new Map([["blk.0.attn_v.weight", { a, b }]]) } });
    expect(readLoraPair(custom, "blk.0.attn_v.weight")).toEqual({ a, b });
    await expect(writeLoraAdapter({ base, out: custom, rank: 2, alpha: 2, targets: ["blk.0.attn_v.weight"], init: { tensors: new Map([["blk.0.attn_v.weight", { a: b.subarray(1), b }]]) } })).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
  });

  it("zeroes a copy's B tensors and keeps everything else (the gate's base-at-adapter-cost twin)", async () => {
    const trained = join(dir, "trained.gguf");
    await writeLoraAdapter({ base, out: trained, rank: 4, alpha: 8, targets: ["attn_q", "ffn_up"], init: "random", seed: 3 });
    const twin = join(dir, "twin.gguf");
    await writeZeroBAdapter({ adapter: trained, out: twin });
    const [source, copy] = [readGguf(trained), readGguf(twin)];
    expect(copy.tensors.map((tensor) => [tensor.name, tensor.dims, tensor.type])).toEqual(source.tensors.map((tensor) => [tensor.name, tensor.dims, tensor.type]));
    for (const key of ["general.architecture", "adapter.type", "adapter.lora.alpha", "council.lora.rank", "council.base.sha256"]) expect(copy.metadata.get(key)).toEqual(source.metadata.get(key));
    expect(copy.metadata.get("general.name")).toBe("twin");
    for (const target of ["blk.0.attn_q.weight", "blk.1.ffn_up.weight"]) {
      const [original, zeroed] = [readLoraPair(trained, target), readLoraPair(twin, target)];
      expect(zeroed.a).toEqual(original.a);
      expect(original.b.some((value) => value !== 0)).toBe(true);
      expect(zeroed.b.every((value) => value === 0)).toBe(true);
    }
    await expect(validateAdapterForBase({ adapter: twin, base })).resolves.toMatchObject({ rank: 4, alpha: 8 });
    await expect(writeZeroBAdapter({ adapter: base, out: join(dir, "nope.gguf") })).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
  });

  it("rejects adapters for another base with ADAPTER_MISMATCH", async () => {
    const out = join(dir, "m.gguf");
    await writeLoraAdapter({ base, out, rank: 2, alpha: 4, targets: ["attn_q"] });
    await expect(validateAdapterForBase({ adapter: out, base: otherBase })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
    // Same shapes, different weights: the recorded base hash tells them apart.
    const twin = await createTinyModel({ dir, seed: 3, name: "twin.gguf" });
    await expect(validateAdapterForBase({ adapter: out, base: twin })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
    const info = await readAdapterBaseInfo(otherBase);
    await expect(validateAdapterForBase({ adapter: out, base: { ...info, sha256: (await readAdapterBaseInfo(base)).sha256 } })).rejects.toThrow(/shape/);
    await expect(writeLoraAdapter({ base, out: join(dir, "n.gguf"), rank: 2, alpha: 4, targets: ["attn_nope"] })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
  });

  it("rejects files that are not LoRA adapters with ADAPTER_INVALID", async () => {
    await expect(validateAdapterForBase({ adapter: base, base })).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
    const garbage = join(dir, "garbage.gguf");
    await writeFile(garbage, "not a gguf at all, just text");
    await expect(validateAdapterForBase({ adapter: garbage, base })).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
    const half = join(dir, "half.gguf");
    await writeGguf({
      path: half,
      kv: [
        { key: "general.architecture", type: "string", value: "llama" },
        { key: "general.type", type: "string", value: "adapter" },
        { key: "adapter.type", type: "string", value: "lora" },
        { key: "adapter.lora.alpha", type: "f32", value: 1 },
      ],
      tensors: [{ name: "blk.0.attn_q.weight.lora_a", dims: [64, 2], data: new Float32Array(128) }],
    });
    await expect(validateAdapterForBase({ adapter: half, base })).rejects.toThrow(/missing one component/);
    await expect(validateAdapterForBase({ adapter: join(dir, "none.gguf"), base })).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
  });
});
