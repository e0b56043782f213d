import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { greedyCompletion } from "../../test/helpers/greedy-completion.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { readGguf, validateAdapterForBase, writeLoraAdapter } from "./index.js";

const complete = (model: LlamaModel, prompt: string, lora?: string) => greedyCompletion(model, prompt, lora ? { lora } : {});

describe("GGUF writer output in llama.cpp (node-llama-cpp)", () => {
  let dir: string;
  let llama: Llama;
  let modelPath: string;
  let model: LlamaModel;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-gguf-int-"));
    modelPath = await createTinyModel({ dir, seed: 7 });
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath });
  });

  afterAll(async () => {
    await model?.dispose();
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the tiny model, tokenizes with byte fallback, and generates tokens", async () => {
    expect(model.fileInfo.metadata.general.architecture).toBe("llama");
    const tokens = model.tokenize("reset the password é");
    expect(tokens.length).toBeGreaterThan(3);
    expect(model.detokenize(tokens)).toBe("reset the password é");
    const text = await complete(model, "How do I reset my password?");
    expect(text.length).toBeGreaterThan(0);
    // Same seed, same weights, same greedy output.
    expect(await complete(model, "How do I reset my password?")).toBe(text);
  });

  it("applies a LoRA adapter written by writeLoraAdapter (random B changes the output, zero B does not)", async () => {
    const random = join(dir, "random.gguf");
    const zero = join(dir, "zero.gguf");
    await writeLoraAdapter({ base: modelPath, out: random, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up", "ffn_down"], init: "random", seed: 3, randomScale: 4 });
    await writeLoraAdapter({ base: modelPath, out: zero, rank: 4, alpha: 8, targets: ["attn_q", "attn_v"], init: "zero-b", seed: 3 });
    await expect(validateAdapterForBase({ adapter: random, base: modelPath })).resolves.toMatchObject({ rank: 4, alpha: 8 });
    expect(readGguf(random).tensors.find((tensor) => tensor.name === "blk.0.attn_q.weight.lora_a")?.dims).toEqual([64, 4]);
    const prompt = "How do I reset my password?";
    const baseText = await complete(model, prompt);
    expect(await complete(model, prompt, zero)).toBe(baseText);
    expect(await complete(model, prompt, random)).not.toBe(baseText);
  });
});
