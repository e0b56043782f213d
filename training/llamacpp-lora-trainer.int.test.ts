import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { sha256File, validateAdapterForBase } from "../models/gguf/index.js";
import { renderExample, renderPrompt } from "../models/prompt-template.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { cutAnswer, LlamaCppLoraTrainer, LORA_TRAINER_BINARY, tokenF1 } from "./index.js";
import { loadTldrPairs } from "./testing/tldr-pairs.js";
import { trainerContract } from "./trainer.contract.js";

const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages", "common");
const THREADS = 2;

trainerContract("llamacpp-lora (native council-lora-train)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "council-lora-contract-"));
  const base = await createTinyModel({ dir, seed: 5 });
  const notModel = join(dir, "not-a-model.gguf");
  await writeFile(notModel, "not a gguf");
  await chmod(notModel, 0o644);
  return {
    trainer: await LlamaCppLoraTrainer.create({ threads: THREADS }),
    withFreeBytes: (freeBytes) => LlamaCppLoraTrainer.create({ threads: THREADS, freeBytes: async () => freeBytes }),
    base,
    badBase: notModel,
    epochs: 2,
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
});

async function answer(model: LlamaModel, prompts: readonly string[], adapter?: string): Promise<string[]> {
  const context = await model.createContext({ contextSize: 512, threads: THREADS, ...(adapter ? { lora: { adapters: [{ filePath: adapter }] } } : {}) });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    const answers: string[] = [];
    for (const prompt of prompts) {
      answers.push(cutAnswer(await completion.generateCompletion(prompt, { maxTokens: 24, temperature: 0 })));
      await context.getSequence().clearHistory();
    }
    return answers;
  } finally {
    await context.dispose();
  }
}

describe("llamacpp-lora on ~50 tldr question → command pairs", () => {
  let dir: string;
  let base: string;
  let llama: Llama;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-lora-int-"));
    // the seedling when it has been built (npm run setup), else a small random llama of the same kind
    base = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await createTinyModel({ dir, seed: 11, shape: { embedding: 128, layers: 2, heads: 4, feedForward: 256, contextLength: 512 } });
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("learns the answers: loss falls, the adapter loads in node-llama-cpp and beats the base on token F1; the base file is unchanged", async () => {
    expect(existsSync(LORA_TRAINER_BINARY)).toBe(true);
    const pairs = await loadTldrPairs({ dir: TLDR, count: 50, maxAnswerChars: 24 });
    expect(pairs).toHaveLength(50);
    const messages = pairs.map((pair) => [{ role: "user" as const, content: pair.question }]);
    const data = join(dir, "tldr.jsonl");
    await writeFile(data, pairs.map((pair, i) => JSON.stringify(renderExample(messages[i]!, pair.answer))).join("\n") + "\n");
    const baseSha = await sha256File(base);

    const trainer = await LlamaCppLoraTrainer.create({ threads: THREADS });
    const result = await trainer.train({ dataset: data, base, out: join(dir, "adapter"), rank: 16, alpha: 32, epochs: 12, learningRate: 3e-3 });
    const curve = result.report.lossCurve.map((point) => point.loss);
    expect(curve[curve.length - 1]!).toBeLessThan(curve[0]! * 0.6);
    expect(await sha256File(base)).toBe(baseSha);
    expect(result.report.base.sha256).toBe(baseSha);
    await expect(validateAdapterForBase({ adapter: result.adapterPath, base })).resolves.toMatchObject({ rank: 16, alpha: 32, baseSha256: baseSha });

    const model = await llama.loadModel({ modelPath: base });
    try {
      const prompts = messages.map((m) => renderPrompt(m));
      const before = await answer(model, prompts);
      const after = await answer(model, prompts, result.adapterPath);
      const f1 = (answers: string[]) => answers.reduce((sum, text, i) => sum + tokenF1(text, pairs[i]!.answer), 0) / answers.length;
      const exact = (answers: string[]) => answers.filter((text, i) => text === pairs[i]!.answer).length;
      const measured = { baseF1: f1(before), adaptedF1: f1(after), baseExact: exact(before), adaptedExact: exact(after), lossFirst: curve[0], lossLast: curve[curve.length - 1] };
      console.log(`[lora int] ${JSON.stringify(measured)}`);
      expect(after.filter((text, i) => text !== before[i]).length).toBeGreaterThan(25);
      expect(measured.adaptedF1).toBeGreaterThan(measured.baseF1 + 0.2);
      expect(measured.adaptedExact).toBeGreaterThan(measured.baseExact);
    } finally {
      await model.dispose();
    }
    expect(await sha256File(base)).toBe(baseSha);
  });

  it("continues training an adapter it wrote, and refuses one written for another base (ADAPTER_MISMATCH)", async () => {
    const data = join(dir, "small.jsonl");
    const pairs = await loadTldrPairs({ dir: TLDR, count: 8, maxAnswerChars: 24 });
    await writeFile(data, pairs.map((pair) => JSON.stringify(renderExample([{ role: "user", content: pair.question }], pair.answer))).join("\n") + "\n");
    const trainer = await LlamaCppLoraTrainer.create({ threads: THREADS });
    const first = await trainer.train({ dataset: data, base, out: join(dir, "first"), rank: 4, alpha: 8, epochs: 2, learningRate: 3e-3, targets: ["attn_q", "attn_v"] });
    const second = await trainer.train({ dataset: data, base, out: join(dir, "second"), rank: 4, alpha: 8, epochs: 2, learningRate: 3e-3, targets: ["attn_q", "attn_v"], resumeAdapter: first.adapterPath });
    expect(second.report.lossCurve[0]!.loss).toBeLessThan(first.report.lossCurve[0]!.loss);
    const other = await createTinyModel({ dir, seed: 99, name: "other.gguf" });
    await expect(trainer.train({ dataset: data, base: other, out: join(dir, "third"), epochs: 1, resumeAdapter: first.adapterPath })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
    expect(existsSync(join(dir, "third"))).toBe(false);
  });
});
