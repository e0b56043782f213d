import { existsSync } from "node:fs";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaCompletion, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAnswerMessages } from "../agents/index.js";
import type { TldrItem } from "../bench/improve/index.js";
import { configSchema, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { sha256File, validateAdapterForBase, writeZeroBAdapter } from "../models/gguf/index.js";
import { renderExample, renderPrompt, TEMPLATE_MARKERS } from "../models/prompt-template.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { cutAnswer, LlamaCppLoraTrainer, LORA_TRAINER_BINARY, tokenF1 } from "./index.js";
import { seedlingQualityItems } from "./testing/seedling-items.js";
import { loadTldrPairs } from "./testing/tldr-pairs.js";
import { trainerContract } from "./trainer.contract.js";

const TLDR_PAGES = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages");
const TLDR = join(TLDR_PAGES, "common");
const THREADS = 2;
/** One thread: on a loaded 2-core machine ggml's spinning workers make a 2-thread answer ~100× slower (6 s vs 45 ms). */
const TRAIN_THREADS = 1;
const INFERENCE_THREADS = 1;
/** Seedling quality test: this many tldr pairs, answers at most this long, trained this many epochs (see the test). */
const SEEDLING_EXAMPLES = 20;
const SEEDLING_MAX_ANSWER_CHARS = 24;
const SEEDLING_EPOCHS = 140;

/** The answerer's prompt for a question without retrieved passages: what the nightly trains on and tomorrow's answerer sends. */
const answerPrompt = (question: string) => renderPrompt(buildAnswerMessages({ question, passages: [] }));

/** Trained items: allowed (not held-out) default bench pages' traffic with short answers; held-out: their eval items. */
const seedlingItems = () => seedlingQualityItems({ examples: SEEDLING_EXAMPLES, maxAnswerChars: SEEDLING_MAX_ANSWER_CHARS });

function score(answers: readonly string[], items: readonly TldrItem[]): { f1: number; exact: number } {
  const f1 = answers.reduce((sum, text, i) => sum + tokenF1(text, items[i]!.answer), 0) / answers.length;
  return { f1: Math.round(f1 * 1000) / 1000, exact: answers.filter((text, i) => text === items[i]!.answer).length };
}

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
  const context = await model.createContext({ contextSize: 512, threads: INFERENCE_THREADS, ...(adapter ? { lora: { adapters: [{ filePath: adapter }] } } : {}) });
  try {
    const sequence = context.getSequence();
    const completion = new LlamaCompletion({ contextSequence: sequence });
    const answers: string[] = [];
    for (const prompt of prompts) {
      // greedy, stopping where the answerer stops (the template's end marker)
      answers.push(cutAnswer(await completion.generateCompletion(prompt, { maxTokens: 24, temperature: 0, customStopTriggers: [TEMPLATE_MARKERS.end] })));
      await sequence.clearHistory();
    }
    return answers;
  } finally {
    await context.dispose();
  }
}

async function writePairs(path: string, pairs: ReadonlyArray<{ question: string; answer: string }>): Promise<void> {
  await writeFile(path, pairs.map((pair) => JSON.stringify(renderExample([{ role: "user", content: pair.question }], pair.answer))).join("\n") + "\n");
}

describe("llamacpp-lora trains real adapters", () => {
  let dir: string;
  let tiny: string;
  let llama: Llama;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-lora-int-"));
    tiny = await createTinyModel({ dir, seed: 11, shape: { embedding: 128, layers: 2, heads: 4, feedForward: 256, contextLength: 512 } });
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  });
  afterAll(async () => {
    await llama?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("on a tiny random llama: loss falls, the adapter loads in node-llama-cpp and changes its output, the base file is unchanged", async () => {
    expect(existsSync(LORA_TRAINER_BINARY)).toBe(true);
    const pairs = await loadTldrPairs({ dir: TLDR, count: 50, maxAnswerChars: 24 });
    const data = join(dir, "tldr.jsonl");
    await writePairs(data, pairs);
    const baseSha = await sha256File(tiny);
    const trainer = await LlamaCppLoraTrainer.create({ threads: THREADS });
    const result = await trainer.train({ dataset: data, base: tiny, out: join(dir, "tiny-adapter"), epochs: 6, learningRate: 1e-3 });
    const curve = result.report.lossCurve.map((point) => point.loss);
    expect(curve[curve.length - 1]!).toBeLessThan(curve[0]! * 0.8);
    expect(await sha256File(tiny)).toBe(baseSha);
    await expect(validateAdapterForBase({ adapter: result.adapterPath, base: tiny })).resolves.toMatchObject({ rank: 16, alpha: 32, baseSha256: baseSha });
    const model = await llama.loadModel({ modelPath: tiny });
    try {
      const prompts = pairs.slice(0, 4).map((pair) => renderPrompt([{ role: "user", content: pair.question }]));
      const before = await answer(model, prompts);
      const after = await answer(model, prompts, result.adapterPath);
      expect(after).not.toEqual(before);
      // its zero-B twin (what the gate times "no adapter yet" through) answers exactly like the base
      const twin = join(dir, "tiny-adapter-twin.gguf");
      await writeZeroBAdapter({ adapter: result.adapterPath, out: twin });
      expect(await answer(model, prompts, twin)).toEqual(before);
    } finally {
      await model.dispose();
    }
  });

  // Measured 2026-11-22 (2 cores): 20 pairs × 140 epochs = 980 steps, 82 s; loss 6.39 → 0.63, trained F1 0 → 0.085,
  // exact 0 → 1 of 20. The adapter learns the answers' bodies (path/to/file, flags) but rarely their first token: after
  // the prompt's final "\n" it still prefers "###" (the end marker follows "\n" in every example). With 50 pairs ×
  // 100 epochs (2,000 steps) loss fell only to 2.18 and every greedy answer was "###", so the test keeps 20 pairs.
  // Re-packing the examples in a fresh order every epoch (so none is learned from fixed neighbours) was tried:
  // here F1 0.104 / exact 0, but the e2e fixed 0 of 6 instead of 2 of 6, so the trainer keeps fixed windows.
  it("on the seedling with the config defaults, tldr question → command pairs: loss falls 3×, and the adapted model's answers to its trained questions beat the base's on token F1 (exact match not worse)", async () => {
    expect(existsSync(SEEDLING_PATH)).toBe(true);
    const defaults = configSchema.parse({}).training;
    const { trained, heldOut } = seedlingItems();
    const data = join(dir, "seedling.jsonl");
    await writeFile(data, trained.map((item) => JSON.stringify(renderExample(buildAnswerMessages({ question: item.question, passages: [] }), item.answer))).join("\n") + "\n");
    const baseSha = await sha256File(SEEDLING_PATH);
    const trainer = await LlamaCppLoraTrainer.create({ threads: TRAIN_THREADS });
    const started = Date.now();
    const result = await trainer.train({
      dataset: data,
      base: SEEDLING_PATH,
      out: join(dir, "seedling-adapter"),
      rank: defaults.rank,
      alpha: defaults.alpha,
      learningRate: defaults.learningRate,
      targets: defaults.targets,
      epochs: SEEDLING_EPOCHS,
    });
    const trainSeconds = (Date.now() - started) / 1000;
    const curve = result.report.lossCurve.map((point) => point.loss);
    expect(curve[curve.length - 1]!).toBeLessThan(curve[0]! / 3);
    const model = await llama.loadModel({ modelPath: SEEDLING_PATH });
    try {
      const measure = async (items: readonly TldrItem[]) => {
        const prompts = items.map((item) => answerPrompt(item.question));
        return { base: score(await answer(model, prompts), items), adapted: score(await answer(model, prompts, result.adapterPath), items) };
      };
      const onTrained = await measure(trained);
      const onHeldOut = await measure(heldOut);
      const measured = {
        examples: trained.length,
        heldOut: heldOut.length,
        epochs: SEEDLING_EPOCHS,
        steps: result.report.stepLosses.length,
        trainSeconds,
        lossFirst: curve[0],
        lossLast: curve[curve.length - 1],
        trained: onTrained,
        heldOutScores: onHeldOut,
      };
      console.log(`[lora int] seedling ${JSON.stringify(measured)}`);
      expect(onTrained.adapted.f1).toBeGreaterThan(onTrained.base.f1 + 0.05);
      expect(onTrained.adapted.exact).toBeGreaterThanOrEqual(onTrained.base.exact);
    } finally {
      await model.dispose();
    }
    expect(await sha256File(SEEDLING_PATH)).toBe(baseSha);
  }, 600_000);

  // native/llama-patches/0002: llama.cpp rebuilds its training graph per batch and never cleared the gradient
  // accumulators, so each step's gradient was the sum of all before it. Measured on a night's 82 examples: at 4e-4
  // the loss fell to 0.30 by epoch 3 and climbed back to 1.9; at 1e-3 it reached 12.7. Cleared after every step, 2e-3
  // falls to 0.01 without a rise. A tiny clipping bar shows the clipping patch acts (Adam steps shrink to ~eps).
  it("gradients start fresh every step: at learning rate 2e-3 the loss falls 10× and never climbs back; clipping slows it when asked", async () => {
    const { trained } = seedlingItems();
    const data = join(dir, "fresh-gradients.jsonl");
    await writeFile(data, trained.map((item) => JSON.stringify(renderExample(buildAnswerMessages({ question: item.question, passages: [] }), item.answer))).join("\n") + "\n");
    const train = async (gradClip: number) => {
      const trainer = await LlamaCppLoraTrainer.create({ threads: TRAIN_THREADS, gradClip });
      const result = await trainer.train({ dataset: data, base: SEEDLING_PATH, out: join(dir, `fresh-${gradClip}`), epochs: 30, learningRate: 2e-3 });
      expect(result.report.hyperparameters.extra).toMatchObject({ gradClip });
      return result.report.lossCurve.map((point) => point.loss);
    };
    const free = await train(0);
    console.log(`[lora int] fresh gradients: epoch losses ${free.map((loss) => loss.toFixed(3)).join(" ")}`);
    expect(free.at(-1)!).toBeLessThan(free[0]! / 10);
    free.forEach((loss, epoch) => expect(loss, `epoch ${epoch + 1}`).toBeLessThan(Math.min(...free.slice(0, epoch + 1)) * 1.5 + 0.05));
    const clipped = await train(1e-9);
    expect(clipped.at(-1)!).toBeGreaterThan(free.at(-1)! * 3);
  }, 600_000);

  it("trains a 16-layer model (native/llama-patches: without the training graph budget ggml aborted with n_nodes < size)", async () => {
    const deep = await createTinyModel({ dir, seed: 13, name: "deep.gguf", shape: { embedding: 64, layers: 16, heads: 4, feedForward: 128, contextLength: 256 } });
    const data = join(dir, "deep.jsonl");
    await writePairs(data, await loadTldrPairs({ dir: TLDR, count: 8, maxAnswerChars: 24 }));
    const trainer = await LlamaCppLoraTrainer.create({ threads: THREADS });
    const result = await trainer.train({ dataset: data, base: deep, out: join(dir, "deep-adapter"), epochs: 2, learningRate: 1e-3 });
    expect(result.report.lossCurve).toHaveLength(2);
    const summary = await validateAdapterForBase({ adapter: result.adapterPath, base: deep });
    expect(summary.rank).toBe(16);
    expect(summary.targets.filter((target) => target.startsWith("blk.15."))).not.toHaveLength(0);
  });

  it("continues training an adapter it wrote, and refuses one written for another base (ADAPTER_MISMATCH)", async () => {
    const data = join(dir, "small.jsonl");
    await writePairs(data, await loadTldrPairs({ dir: TLDR, count: 8, maxAnswerChars: 24 }));
    const trainer = await LlamaCppLoraTrainer.create({ threads: THREADS });
    const first = await trainer.train({ dataset: data, base: tiny, out: join(dir, "first"), rank: 4, alpha: 8, epochs: 3, learningRate: 1e-3, targets: ["attn_q", "attn_v"] });
    const second = await trainer.train({ dataset: data, base: tiny, out: join(dir, "second"), rank: 4, alpha: 8, epochs: 2, learningRate: 1e-3, targets: ["attn_q", "attn_v"], resumeAdapter: first.adapterPath });
    expect(second.report.lossCurve[0]!.loss).toBeLessThan(first.report.lossCurve[0]!.loss);
    expect(second.report.hyperparameters.resumedFrom).toBe(first.adapterPath);
    const other = await createTinyModel({ dir, seed: 99, name: "other.gguf" });
    await expect(trainer.train({ dataset: data, base: other, out: join(dir, "third"), epochs: 1, resumeAdapter: first.adapterPath })).rejects.toMatchObject({ code: "ADAPTER_MISMATCH" });
    expect(existsSync(join(dir, "third"))).toBe(false);
  });
});
