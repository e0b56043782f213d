import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { dequantizeQ8_0, readGguf, readTensorBytes, readTensorF32 } from "../models/gguf/index.js";
import { writeF32Copy } from "./lora-vs-full-real-size.js";
import { TINY_QWEN2_SHAPE, writeRandomQwen2Model } from "./perf/random-model.js";

describe("writeF32Copy (the full fine-tune's base in bench/lora-vs-full.ts --real-size)", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-f32-copy-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the Q8_0 model's exact weights as F32, metadata kept, file type ALL_F32", async () => {
    const source = join(dir, "q8.gguf");
    await writeRandomQwen2Model({ path: source, shape: TINY_QWEN2_SHAPE });
    const target = join(dir, "f32.gguf");
    await writeF32Copy(source, target);
    const q8 = readGguf(source);
    const f32 = readGguf(target);
    expect(f32.tensors.map((t) => [t.name, t.dims])).toEqual(q8.tensors.map((t) => [t.name, t.dims]));
    expect(new Set(f32.tensors.map((t) => t.typeName))).toEqual(new Set(["F32"]));
    expect(f32.metadata.get("general.file_type")).toBe(0);
    expect(f32.metadata.get("general.architecture")).toBe("qwen2");
    expect(f32.metadata.get("tokenizer.ggml.tokens")).toEqual(q8.metadata.get("tokenizer.ggml.tokens"));
    for (const name of ["token_embd.weight", "blk.1.ffn_down.weight"]) {
      expect(readTensorF32(f32, name)).toEqual(dequantizeQ8_0(readTensorBytes(q8, name)));
    }
    expect(readTensorF32(f32, "blk.0.attn_norm.weight")).toEqual(readTensorF32(q8, "blk.0.attn_norm.weight"));
  });
});
