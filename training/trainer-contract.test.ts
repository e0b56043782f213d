import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { writeLoraAdapter } from "../models/gguf/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { LlamaCppLoraTrainer, QloraTrainer } from "./index.js";
import { contractDataset, trainerContract } from "./trainer.contract.js";

const FAKE = fileURLToPath(new URL("./testing/fake-trainer.mjs", import.meta.url));

interface FakeSetup {
  dir: string;
  fake: string;
  ggufBase: string;
  hfBase: string;
}

/** A temp folder with the stand-in trainer, its config, a tiny GGUF base, an HF-style base folder and a fixture adapter. */
async function fakeSetup(config: Record<string, unknown> = {}): Promise<FakeSetup> {
  const dir = await mkdtemp(join(tmpdir(), "council-fake-trainer-"));
  const fake = join(dir, "fake-trainer.mjs");
  await copyFile(FAKE, fake);
  await chmod(fake, 0o755);
  const ggufBase = await createTinyModel({ dir, seed: 3 });
  const adapter = join(dir, "fixture-adapter.gguf");
  await writeLoraAdapter({ base: ggufBase, out: adapter, rank: 4, alpha: 8, targets: ["attn_q", "attn_v"] });
  await writeFile(join(dir, "fake-trainer.config.json"), JSON.stringify({ adapter, stepMs: 5, maxPromptChars: 4000, ...config }));
  const hfBase = join(dir, "hf-model");
  await mkdir(hfBase);
  await writeFile(join(hfBase, "config.json"), JSON.stringify({ model_type: "llama", hidden_size: 64 }));
  await writeFile(join(hfBase, "model.safetensors"), "weights");
  return { dir, fake, ggufBase, hfBase };
}

trainerContract("llamacpp-lora (stand-in process)", async () => {
  const setup = await fakeSetup();
  const notModel = join(setup.dir, "not-a-model.gguf");
  await writeFile(notModel, "this is not a GGUF file at all");
  return {
    trainer: await LlamaCppLoraTrainer.create({ binaryPath: setup.fake }),
    withFreeBytes: (freeBytes) => LlamaCppLoraTrainer.create({ binaryPath: setup.fake, freeBytes: async () => freeBytes }),
    base: setup.ggufBase,
    badBase: notModel,
    epochs: 2,
    dispose: () => rm(setup.dir, { recursive: true, force: true }),
  };
});

trainerContract("qlora (stand-in for python3 train_qlora.py)", async () => {
  const setup = await fakeSetup();
  const bert = join(setup.dir, "bert-model");
  await mkdir(bert);
  await writeFile(join(bert, "config.json"), JSON.stringify({ model_type: "bert" }));
  const create = (freeBytes?: number) => QloraTrainer.create({ python: process.execPath, script: setup.fake, ...(freeBytes !== undefined ? { freeBytes: async () => freeBytes } : {}) });
  return {
    trainer: await create(),
    withFreeBytes: (freeBytes) => create(freeBytes),
    base: setup.hfBase,
    badBase: bert,
    epochs: 2,
    dispose: () => rm(setup.dir, { recursive: true, force: true }),
  };
});

describe("trainer process failures", () => {
  it("maps a crash without an error event to TRAINING_FAILED with the stderr tail, and an error event to its code", async () => {
    for (const [failWith, code, text] of [
      ["crash", "TRAINING_FAILED", /segmentation fault/],
      ["ADAPTER_MISMATCH", "ADAPTER_MISMATCH", /ADAPTER_MISMATCH/],
      ["SOMETHING_ELSE", "TRAINING_FAILED", /SOMETHING_ELSE/],
    ] as const) {
      const setup = await fakeSetup({ failWith });
      try {
        const data = join(setup.dir, "data.jsonl");
        await writeFile(data, contractDataset());
        const trainer = await LlamaCppLoraTrainer.create({ binaryPath: setup.fake });
        const error = await trainer.train({ dataset: data, base: setup.ggufBase, out: join(setup.dir, "out"), epochs: 1 }).catch((caught: unknown) => caught);
        expect(isCouncilError(error, code)).toBe(true);
        expect((error as Error).message).toMatch(text);
      } finally {
        await rm(setup.dir, { recursive: true, force: true });
      }
    }
  });

  it("reports NATIVE_MISSING when the trainer binary is absent", async () => {
    await expect(LlamaCppLoraTrainer.create({ binaryPath: "/nonexistent/council-lora-train" })).rejects.toMatchObject({ code: "NATIVE_MISSING" });
  });

  it("rejects bad hyperparameters with CONFIG_INVALID before starting a process", async () => {
    const setup = await fakeSetup({ failWith: "crash" });
    try {
      const data = join(setup.dir, "data.jsonl");
      await writeFile(data, contractDataset());
      const trainer = await LlamaCppLoraTrainer.create({ binaryPath: setup.fake });
      for (const bad of [{ rank: 0 }, { alpha: -1 }, { epochs: 1.5 }, { learningRate: 2 }, { targets: [] }]) {
        await expect(trainer.train({ dataset: data, base: setup.ggufBase, out: join(setup.dir, "out"), ...bad })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
      }
    } finally {
      await rm(setup.dir, { recursive: true, force: true });
    }
  });

  it("qlora maps GGUF target names to Hugging Face modules and refuses unknown ones", async () => {
    const setup = await fakeSetup();
    try {
      const data = join(setup.dir, "data.jsonl");
      await writeFile(data, contractDataset());
      const trainer = await QloraTrainer.create({ python: process.execPath, script: setup.fake });
      await expect(trainer.train({ dataset: data, base: setup.hfBase, out: join(setup.dir, "out"), targets: ["attn_q", "token_embd"] })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    } finally {
      await rm(setup.dir, { recursive: true, force: true });
    }
  });
});
