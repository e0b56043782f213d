import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, SEEDLING_PATH } from "../../core/index.js";
import { greedyCompletion, type GreedyCompletionOptions } from "../../test/helpers/greedy-completion.js";
import { readGguf, validateAdapterForBase, writeLoraAdapter } from "../gguf/index.js";
import { renderPrompt } from "../prompt-template.js";
import { buildSeedling, DEFAULT_SYSTEM_PROMPT, verifySeedlingFile } from "./index.js";

const PROMPT = renderPrompt([
  { role: "system", content: DEFAULT_SYSTEM_PROMPT },
  { role: "user", content: "How do I reset my password?" },
]);

const complete = (model: LlamaModel, options: Omit<GreedyCompletionOptions, "contextSize" | "maxTokens"> = {}) => greedyCompletion(model, PROMPT, { contextSize: 1024, maxTokens: 40, ...options });

describe("the seedling (models/seedling.gguf, built by npm run setup)", () => {
  let dir: string;
  let llama: Llama;
  let model: LlamaModel;

  beforeAll(async () => {
    if (!existsSync(SEEDLING_PATH)) throw new Error(`${SEEDLING_PATH} is missing: run npm run setup (or npx council seedling build)`);
    await verifySeedlingFile(SEEDLING_PATH);
    dir = await mkdtemp(join(tmpdir(), "council-seedling-int-"));
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    model = await llama.loadModel({ modelPath: SEEDLING_PATH });
  });
  afterAll(async () => {
    await model?.dispose();
    await llama?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("was pre-trained (the committed reading seedling: validation loss fell along its recorded curve), and the chat template tokenizes into learned pieces", async () => {
    const file = readGguf(SEEDLING_PATH);
    const { report } = await verifySeedlingFile(SEEDLING_PATH);
    expect(file.metadata.get("council.seedling.key")).toBe(report?.key);
    const curve = ((report as unknown as { log?: Array<{ event: string; val_loss?: number }> }).log ?? []).filter((event) => event.event === "eval").map((event) => event.val_loss!);
    expect(curve.length).toBeGreaterThan(2);
    expect(curve[curve.length - 1]!).toBeLessThan(curve[0]! / 4);
    expect(file.metadata.get("council.seedling.val_loss")).toBeCloseTo(curve[curve.length - 1]!, 4);
    const tokens = model.tokenize(PROMPT);
    // A subword vocabulary: well under one token per character.
    expect(tokens.length).toBeLessThan(PROMPT.length / 2.5);
    expect(model.detokenize(tokens)).toBe(PROMPT);
  });

  it("streams tokens", async () => {
    const chunks: string[] = [];
    const text = await complete(model, { onToken: (chunk) => chunks.push(chunk) });
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.join("")).toBe(text);
    expect(text.trim().length).toBeGreaterThan(0);
  });

  it("a LoRA adapter written by writeLoraAdapter changes its output", async () => {
    const adapter = join(dir, "random.gguf");
    await writeLoraAdapter({ base: SEEDLING_PATH, out: adapter, rank: 8, alpha: 16, targets: ["attn_q", "attn_v", "ffn_up", "ffn_down"], init: "random", seed: 11, randomScale: 2 });
    await validateAdapterForBase({ adapter, base: SEEDLING_PATH });
    const base = await complete(model);
    const adapted = await complete(model, { lora: adapter });
    expect(adapted).not.toBe(base);
  });
});

describe("buildSeedling with the real llama-finetune (tiny recipe)", () => {
  it("pre-trains, lowers validation loss, and the result loads and generates", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-seedling-build-"));
    try {
      const out = join(dir, "tiny-seedling.gguf");
      const report = await buildSeedling({
        out,
        corpusDir: join(PROJECT_ROOT, "kb"),
        recipe: { vocabPieces: 200, epochs: 1, trainContext: 64, learningRate: 1e-3, learningRateMin: 1e-3, decayEpochs: 1, shape: { embedding: 32, layers: 1, heads: 2, feedForward: 64, contextLength: 256 } },
        threads: 2,
      });
      expect(report.validationLoss.after).toBeLessThan(report.validationLoss.before);
      const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
      const tiny = await llama.loadModel({ modelPath: out });
      try {
        expect((await complete(tiny)).length).toBeGreaterThan(0);
      } finally {
        await tiny.dispose();
        await llama.dispose();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
