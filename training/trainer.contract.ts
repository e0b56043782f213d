import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError, type CouncilErrorCode } from "../core/index.js";
import { readLoraAdapter, sha256File } from "../models/gguf/index.js";
import { renderExample } from "../models/prompt-template.js";
import { trainingReportSchema, type Trainer, type TrainProgress } from "./types.js";

export interface TrainerContractSubject {
  /** A trainer that works. */
  trainer: Trainer;
  /** Builds the same trainer with a disk that reports `freeBytes` free. */
  withFreeBytes(freeBytes: number): Promise<Trainer>;
  /** A base model it trains on. */
  base: string;
  /** Something that is not a base model it accepts. */
  badBase: string;
  /** Epochs for the happy path (keep it fast). */
  epochs: number;
  dispose(): Promise<void>;
}

const PAIRS: Array<[string, string]> = [
  ["How do I list files?", "ls -l"],
  ["How do I show the current folder?", "pwd"],
  ["How do I print a file?", "cat file.txt"],
  ["How do I count lines in a file?", "wc -l file.txt"],
  ["How do I make a folder?", "mkdir docs"],
  ["How do I remove an empty folder?", "rmdir docs"],
];

export function contractDataset(pairs: ReadonlyArray<[string, string]> = PAIRS): string {
  return pairs.map(([question, answer]) => JSON.stringify(renderExample([{ role: "user", content: question }], answer))).join("\n") + "\n";
}

async function expectCode(promise: Promise<unknown>, codes: CouncilErrorCode[]): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, `expected a CouncilError with code ${codes.join(" or ")}`).toBeDefined();
  expect(isCouncilError(error) ? error.code : String(error)).toSatisfy((code: string) => codes.includes(code as CouncilErrorCode));
}

/**
 * What every Trainer does, run against each implementation (real llamacpp-lora in the integration
 * tier; llamacpp-lora and qlora through a stand-in process in the unit tier).
 */
export function trainerContract(name: string, setup: () => Promise<TrainerContractSubject>): void {
  describe(`trainer contract: ${name}`, () => {
    let subject: TrainerContractSubject;
    let dir: string;
    let data: string;

    beforeAll(async () => {
      subject = await setup();
      dir = await mkdtemp(join(tmpdir(), "council-trainer-contract-"));
      data = join(dir, "data.jsonl");
      await writeFile(data, contractDataset());
    });
    afterAll(async () => {
      await subject?.dispose();
      await rm(dir, { recursive: true, force: true });
    });

    const leftovers = async (folder: string) => (await readdir(folder)).filter((entry) => entry.includes(".partial-"));

    it("trains: the out folder holds adapter.gguf and a training.json that names base, dataset, hyperparameters and the loss curve", async () => {
      const out = join(dir, "run-ok");
      const progress: TrainProgress[] = [];
      const baseSha = await hashBase(subject.base);
      const result = await subject.trainer.train({ dataset: data, base: subject.base, out, rank: 4, alpha: 8, epochs: subject.epochs, learningRate: 1e-3, targets: ["attn_q", "attn_v"], onProgress: (p) => progress.push(p) });
      expect(result.adapterPath).toBe(join(out, "adapter.gguf"));
      expect((await readdir(out)).sort()).toEqual(["adapter.gguf", "training.json"]);
      const report = trainingReportSchema.parse(JSON.parse(await readFile(result.trainingJson, "utf8")));
      expect(report.trainer).toBe(subject.trainer.name);
      expect(report.hyperparameters).toMatchObject({ rank: 4, alpha: 8, epochs: subject.epochs, learningRate: 1e-3, targets: ["attn_q", "attn_v"] });
      expect(report.lossCurve.map((point) => point.epoch)).toEqual(Array.from({ length: subject.epochs }, (_, i) => i + 1));
      expect(report.dataset.sha256).toBe(createHash("sha256").update(await readFile(data)).digest("hex"));
      expect(report.dataset.examples).toBe(PAIRS.length);
      if (baseSha !== undefined) expect(report.base.sha256).toBe(baseSha);
      expect(report.adapter.sha256).toBe(await sha256File(result.adapterPath));
      expect(report.peakRssBytes).toBeGreaterThan(0);
      expect(report.tokensPerSecond).toBeGreaterThan(0);
      expect(readLoraAdapter(result.adapterPath).summary.targets.length).toBeGreaterThan(0);
      const steps = progress.filter((p) => p.kind === "step").map((p) => p.step);
      expect(steps.length).toBeGreaterThan(0);
      expect(steps).toEqual([...steps].sort((a, b) => a - b));
      expect(progress.filter((p) => p.kind === "epoch")).toHaveLength(subject.epochs);
      expect(await leftovers(dir)).toEqual([]);
    });

    it("takes a dataset folder and records its manifest sha256", async () => {
      const folder = join(dir, "dataset-folder");
      await mkdir(folder);
      await writeFile(join(folder, "sft.prompt-completion.jsonl"), contractDataset());
      const manifestSha = "ab".repeat(32);
      await writeFile(join(folder, "manifest.json"), JSON.stringify({ version: 1, sha256: manifestSha }));
      const result = await subject.trainer.train({ dataset: folder, base: subject.base, out: join(dir, "run-folder"), rank: 2, alpha: 4, epochs: 1, targets: ["attn_q"] });
      expect(result.report.dataset.sha256).toBe(manifestSha);
      expect(result.report.dataset.fileSha256).toBe(createHash("sha256").update(contractDataset()).digest("hex"));
    });

    it("rejects a malformed line with DATASET_INVALID and leaves nothing behind", async () => {
      const bad = join(dir, "bad.jsonl");
      await writeFile(bad, contractDataset() + "{not json\n");
      const out = join(dir, "run-bad");
      await expectCode(subject.trainer.train({ dataset: bad, base: subject.base, out, epochs: 1 }), ["DATASET_INVALID"]);
      await expect(readdir(out)).rejects.toThrow();
      expect(await leftovers(dir)).toEqual([]);
    });

    it("rejects empty data, empty lines and empty answers with DATASET_INVALID", async () => {
      const cases = { empty: "", blank: contractDataset().replace("\n", "\n\n"), noAnswer: JSON.stringify({ prompt: "q", completion: " " }) + "\n", wrongShape: JSON.stringify({ question: "q", answer: "a" }) + "\n" };
      for (const [label, text] of Object.entries(cases)) {
        const file = join(dir, `${label}.jsonl`);
        await writeFile(file, text);
        await expectCode(subject.trainer.train({ dataset: file, base: subject.base, out: join(dir, `run-${label}`), epochs: 1 }), ["DATASET_INVALID"]);
      }
    });

    it("rejects an answer longer than the context with DATASET_INVALID", async () => {
      const file = join(dir, "long.jsonl");
      await writeFile(file, contractDataset([["How do I write a long answer?", "word ".repeat(4000)]]));
      const out = join(dir, "run-long");
      await expectCode(subject.trainer.train({ dataset: file, base: subject.base, out, epochs: 1, targets: ["attn_q"] }), ["DATASET_INVALID"]);
      await expect(readdir(out)).rejects.toThrow();
      expect(await leftovers(dir)).toEqual([]);
    });

    it("rejects a base that is not a model it can train with MODEL_INVALID, and a missing one with MODEL_NOT_FOUND", async () => {
      await expectCode(subject.trainer.train({ dataset: data, base: subject.badBase, out: join(dir, "run-badbase"), epochs: 1 }), ["MODEL_INVALID"]);
      await expectCode(subject.trainer.train({ dataset: data, base: join(dir, "no-such-model"), out: join(dir, "run-nobase"), epochs: 1 }), ["MODEL_NOT_FOUND"]);
    });

    it("refuses an out folder that already holds something, and leaves it untouched", async () => {
      const out = join(dir, "run-existing");
      await mkdir(out);
      await writeFile(join(out, "keep.txt"), "keep");
      await expect(subject.trainer.train({ dataset: data, base: subject.base, out, epochs: 1 })).rejects.toThrow(/not empty/);
      expect(await readdir(out)).toEqual(["keep.txt"]);
    });

    it("fails with DISK_FULL before training when there is no space, leaving nothing", async () => {
      const trainer = await subject.withFreeBytes(1024);
      const out = join(dir, "run-full");
      await expectCode(trainer.train({ dataset: data, base: subject.base, out, epochs: 1 }), ["DISK_FULL"]);
      await expect(readdir(out)).rejects.toThrow();
    });

    it("stops with CANCELLED when the signal aborts, leaving nothing", async () => {
      const out = join(dir, "run-cancel");
      const controller = new AbortController();
      const promise = subject.trainer.train({ dataset: data, base: subject.base, out, epochs: 50, signal: controller.signal, onProgress: () => controller.abort() });
      await expectCode(promise, ["CANCELLED"]);
      await expect(readdir(out)).rejects.toThrow();
      expect(await leftovers(dir)).toEqual([]);
    });
  });
}

async function hashBase(base: string): Promise<string | undefined> {
  // GGUF bases are hashed as files; folder bases (Hugging Face) have their own composite hash.
  return base.endsWith(".gguf") ? sha256File(base) : undefined;
}
