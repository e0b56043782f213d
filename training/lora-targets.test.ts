import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readGguf } from "../models/gguf/index.js";
import { f32ToF16 as toHalf } from "../models/gguf/index.js";
import { convertTinyModel, encodeTensor } from "../test/helpers/base-models.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { inspectGgufBase } from "./llamacpp-lora-trainer.js";
import { chooseLoraTargets } from "./lora-targets.js";

const DEFAULTS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "output.weight"];

function layerNames(layers: number, shortNames: readonly string[], extra: readonly string[] = []): string[] {
  const names = ["token_embd.weight", ...extra];
  for (let layer = 0; layer < layers; layer++) for (const short of shortNames) names.push(`blk.${layer}.${short}.weight`);
  return names;
}

describe("chooseLoraTargets: LoRA targets per architecture, from the tensors the base has", () => {
  it("llama with an output head: every default target", () => {
    const names = layerNames(2, ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"], ["output.weight"]);
    expect(chooseLoraTargets({ requested: DEFAULTS, tensorNames: names, architecture: "llama" })).toEqual({ targets: DEFAULTS, skipped: [] });
  });

  it("qwen2 with a tied output head (Qwen2.5-0.5B has no output.weight): output.weight is skipped", () => {
    const names = layerNames(2, ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]);
    expect(chooseLoraTargets({ requested: DEFAULTS, tensorNames: names, architecture: "qwen2" })).toEqual({ targets: DEFAULTS.slice(0, 7), skipped: ["output.weight"] });
  });

  it("phi3 (fused attn_qkv, gate inside ffn_up): attn_q/k/v become attn_qkv, ffn_gate becomes ffn_up", () => {
    const names = layerNames(2, ["attn_qkv", "attn_output", "ffn_up", "ffn_down"], ["output.weight"]);
    expect(chooseLoraTargets({ requested: DEFAULTS, tensorNames: names, architecture: "phi3" })).toEqual({ targets: ["attn_qkv", "attn_output", "ffn_up", "ffn_down", "output.weight"], skipped: [] });
  });

  it("nothing left: CONFIG_INVALID naming the base's layer weights", () => {
    const names = layerNames(1, ["attn_qkv", "ffn_down"]);
    expect(() => chooseLoraTargets({ requested: ["output.weight", "attn_output"], tensorNames: names, architecture: "phi3" })).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("attn_qkv, ffn_down") }),
    );
  });
});

describe("JS quantizers match ggml's reference", () => {
  it("F16 rounds to nearest even; Q8_0 is an f16 scale and 32 int8", () => {
    expect(toHalf(1)).toBe(0x3c00);
    expect(toHalf(-2)).toBe(0xc000);
    expect(toHalf(65504)).toBe(0x7bff);
    expect(toHalf(1e-8)).toBe(0);
    expect(toHalf(1 + 2 ** -11)).toBe(0x3c00); // tie → even
    const data = new Float32Array(32).map((_, i) => (i - 16) / 16);
    const block = encodeTensor(data, "Q8_0");
    expect(block.length).toBe(34);
    const view = new DataView(block.buffer);
    expect(view.getUint16(0, true)).toBe(toHalf(1 / 127));
    expect(view.getInt8(2)).toBe(-127);
    expect(view.getInt8(2 + 16)).toBe(0);
    expect(encodeTensor(data, "Q4_0").length).toBe(18);
  });
});

describe("inspectGgufBase takes real bases", () => {
  let dir: string;
  let src: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-lora-targets-"));
    src = await createTinyModel({ dir, seed: 3 });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("F16, Q8_0 and Q4_0 bases of llama and qwen2 are accepted, with their 2-D weights", async () => {
    for (const architecture of ["llama", "qwen2"] as const) {
      for (const type of ["F16", "Q8_0", "Q4_0"] as const) {
        const path = await convertTinyModel({ src, out: join(dir, `${architecture}-${type}.gguf`), architecture, type });
        const info = await inspectGgufBase(path);
        expect(info.architecture).toBe(architecture);
        expect(info.weightNames).toContain("blk.1.ffn_down.weight");
        expect(info.weightNames).not.toContain("blk.0.attn_q.bias");
        expect(readGguf(path).tensors.find((t) => t.name === "blk.0.attn_q.weight")?.typeName).toBe(type);
      }
    }
  }, 60_000);

  it("a BF16 base is refused with MODEL_INVALID naming the type and the missing ggml kernel", async () => {
    const path = await convertTinyModel({ src, out: join(dir, "bf16.gguf"), type: "BF16" });
    await expect(inspectGgufBase(path)).rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringMatching(/BF16 weights .*OUT_PROD/) });
  });

  it("an architecture outside the list is refused with MODEL_INVALID naming the supported ones", async () => {
    const path = await convertTinyModel({ src, out: join(dir, "gpt2.gguf"), type: "F32", architecture: "gpt2" as "llama" });
    await expect(inspectGgufBase(path)).rejects.toMatchObject({ code: "MODEL_INVALID", message: expect.stringContaining("llama, qwen2, qwen3") });
  });
});
