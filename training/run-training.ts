import { mkdir, readdir, rename, rm, rmdir, stat, statfs, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { CouncilError, isCouncilError } from "../core/index.js";
import { exampleRenderer, type ChatTemplate } from "../models/index.js";
import { sha256File } from "../models/gguf/index.js";
import { renderConversations, resolveDataset, type ResolvedDataset } from "./training-dataset.js";
import { runTrainerProcess } from "./trainer-process.js";
import { DEFAULT_LORA_TARGETS, trainingReportSchema, type TrainerName, type TrainingReport, type TrainOptions, type TrainProgress, type TrainResult } from "./types.js";

export interface Hyperparameters {
  rank: number;
  alpha: number;
  epochs: number;
  learningRate: number;
  targets: string[];
}

export interface TrainerCommandContext {
  /** `dataset.file` is the prompt/completion JSONL to train on (conversations already rendered). */
  dataset: ResolvedDataset;
  base: string;
  baseSha256: string;
  /** Temporary output folder; the adapter must be written to `adapterPath` inside it. */
  workDir: string;
  adapterPath: string;
  hyperparameters: Hyperparameters;
  resumeAdapter: string | undefined;
}

export interface TrainingRunSpec {
  trainer: TrainerName;
  options: TrainOptions;
  /**
   * Checks the base model and returns its identity (sha256) and its own chat template, if it has one
   * (conversational examples are rendered with it; with none, with the seedling's). Throws MODEL_NOT_FOUND / MODEL_INVALID.
   */
  inspectBase: (base: string) => Promise<{ sha256: string; name?: string; chatTemplate?: ChatTemplate }>;
  /** Checks a resumed adapter fits the base. Throws ADAPTER_MISMATCH / ADAPTER_INVALID. */
  checkResume?: (options: { adapter: string; base: string }) => Promise<void>;
  command: (context: TrainerCommandContext) => { command: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** Bytes that must be free beside `out` before training starts. */
  minFreeBytes: number;
  freeBytes?: (dir: string) => Promise<number>;
  now?: () => number;
  /** Extra hyperparameters recorded in training.json. */
  extra?: Record<string, unknown>;
}

async function defaultFreeBytes(dir: string): Promise<number> {
  const info = await statfs(dir);
  return info.bavail * info.bsize;
}

function checkHyperparameters(options: TrainOptions): Hyperparameters {
  const hyper = {
    rank: options.rank ?? 16,
    alpha: options.alpha ?? 32,
    epochs: options.epochs ?? 8,
    learningRate: options.learningRate ?? 1e-3,
    targets: [...(options.targets ?? DEFAULT_LORA_TARGETS)],
  };
  const bad = (key: string, why: string) => new CouncilError("CONFIG_INVALID", `Invalid training option ${key}: ${why}`, { details: { key } });
  if (!Number.isInteger(hyper.rank) || hyper.rank < 1 || hyper.rank > 4096) throw bad("rank", "expected an integer in [1, 4096]");
  if (!(hyper.alpha > 0) || !Number.isFinite(hyper.alpha)) throw bad("alpha", "expected a positive number");
  if (!Number.isInteger(hyper.epochs) || hyper.epochs < 1 || hyper.epochs > 1000) throw bad("epochs", "expected an integer in [1, 1000]");
  if (!(hyper.learningRate > 0) || hyper.learningRate > 1) throw bad("learningRate", "expected a number in (0, 1]");
  if (hyper.targets.length === 0 || hyper.targets.some((t) => !/^[A-Za-z0-9_.]+$/.test(t))) throw bad("targets", "expected tensor short names such as attn_q,ffn_down");
  return hyper;
}

async function assertOutFree(out: string): Promise<void> {
  const entries = await readdir(out).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    if (error.code === "ENOTDIR") return ["(a file)"];
    throw error;
  });
  if (entries !== undefined && entries.length > 0) {
    throw new CouncilError("TRAINING_FAILED", `Output folder ${out} already exists and is not empty; choose a new --out.`, { details: { out } });
  }
}

/**
 * The steps every trainer shares: check options, dataset, base and disk space; run the trainer process
 * into a temporary folder beside `out`; check the base is unchanged; write training.json; rename the
 * folder to `out`. On any failure the temporary folder is removed, so `out` holds a complete result or nothing.
 */
export async function runTraining(spec: TrainingRunSpec): Promise<TrainResult> {
  const { options, now = Date.now } = spec;
  const started = now();
  const hyper = checkHyperparameters(options);
  const out = resolve(options.out);
  await assertOutFree(out);
  const given = await resolveDataset(options.dataset);
  const base = await spec.inspectBase(options.base);
  // Built before any work: a template that does not parse fails here (CHAT_TEMPLATE_INVALID).
  const render = given.conversations > 0 ? exampleRenderer(base.chatTemplate) : undefined;
  if (options.resumeAdapter !== undefined) await spec.checkResume?.({ adapter: options.resumeAdapter, base: options.base });
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const free = await (spec.freeBytes ?? defaultFreeBytes)(parent);
  if (free < spec.minFreeBytes) {
    throw new CouncilError("DISK_FULL", `Only ${free} bytes free in ${parent}; training needs about ${spec.minFreeBytes}. Free some space or choose another --out.`, { details: { free, needed: spec.minFreeBytes } });
  }
  if (options.signal?.aborted) throw new CouncilError("CANCELLED", "Training was cancelled before it started.");

  const workDir = join(parent, `.${basename(out)}.partial-${process.pid}-${started}`);
  // Conversations are rendered into a prompt/completion file the trainer reads (line for line); removed before `out` is complete.
  const renderedPath = join(workDir, "dataset.rendered.jsonl");
  await mkdir(workDir, { recursive: true });
  try {
    const adapterPath = join(workDir, "adapter.gguf");
    const dataset = render !== undefined ? await renderConversations({ dataset: given, render, out: renderedPath }) : given;
    const { command, args, env } = spec.command({ dataset, base: options.base, baseSha256: base.sha256, workDir, adapterPath, hyperparameters: hyper, resumeAdapter: options.resumeAdapter });
    let firstStepAt: number | undefined;
    let firstStep = 0;
    const eta = (step: number, steps: number): number | undefined => {
      if (firstStepAt === undefined || step <= firstStep) return undefined;
      return ((now() - firstStepAt) / 1000 / (step - firstStep)) * (steps - step);
    };
    let lastStep = 0;
    let totalSteps = 1;
    const emit = (progress: TrainProgress) => options.onProgress?.(progress);
    const run = await runTrainerProcess({
      command,
      args,
      env,
      signal: options.signal,
      onEvent: (event) => {
        if (event.event === "step") {
          if (firstStepAt === undefined) {
            firstStepAt = now();
            firstStep = event.step;
          }
          lastStep = event.step;
          totalSteps = event.steps;
          emit({ kind: "step", epoch: event.epoch, epochs: hyper.epochs, step: event.step, steps: event.steps, loss: event.loss, tokensPerSecond: event.tokensPerSecond, etaSeconds: eta(event.step, event.steps) });
        } else if (event.event === "epoch") {
          emit({ kind: "epoch", epoch: event.epoch, epochs: event.epochs, step: lastStep, steps: totalSteps, loss: event.loss, tokensPerSecond: event.tokensPerSecond, etaSeconds: eta(lastStep, totalSteps) });
        }
      },
    });
    const adapterInfo = await stat(adapterPath).catch(() => undefined);
    if (adapterInfo === undefined || adapterInfo.size === 0) throw new CouncilError("TRAINING_FAILED", "The trainer reported success but wrote no adapter.");
    const baseAfter = await spec.inspectBase(options.base);
    if (baseAfter.sha256 !== base.sha256) throw new CouncilError("TRAINING_FAILED", `The base model ${options.base} changed during training (sha256 ${base.sha256.slice(0, 12)} → ${baseAfter.sha256.slice(0, 12)}).`);
    if (run.epochs.length !== hyper.epochs) throw new CouncilError("TRAINING_FAILED", `The trainer reported ${run.epochs.length} of ${hyper.epochs} epochs.`);
    const report: TrainingReport = trainingReportSchema.parse({
      version: 1,
      trainer: spec.trainer,
      createdAt: new Date(started).toISOString(),
      adapter: { file: "adapter.gguf", sha256: await sha256File(adapterPath), bytes: adapterInfo.size },
      base: { path: resolve(options.base), sha256: base.sha256, ...(base.name !== undefined ? { name: base.name } : {}) },
      dataset: { path: resolve(given.path), file: resolve(given.file), sha256: given.sha256, fileSha256: given.fileSha256, examples: given.examples },
      hyperparameters: { ...hyper, ...(options.resumeAdapter !== undefined ? { resumedFrom: resolve(options.resumeAdapter) } : {}), extra: { ...spec.extra, ...pickExtra(run.start), ...datasetFormat(given, base.chatTemplate) } },
      lossCurve: run.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss, seconds: e.seconds, tokensPerSecond: e.tokensPerSecond })),
      stepLosses: run.steps.map((s) => (Number.isFinite(s.loss) ? s.loss : null)),
      durationSeconds: (now() - started) / 1000,
      trainSeconds: run.done.trainSeconds,
      tokensPerSecond: run.done.tokensPerSecond,
      peakRssBytes: run.done.peakRssBytes,
      trainableParams: run.done.trainableParams,
      ...(run.done.modelParams !== undefined ? { modelParams: run.done.modelParams } : {}),
    });
    if (render !== undefined) await rm(renderedPath, { force: true });
    const trainingJsonTemp = join(workDir, "training.json");
    await writeFile(trainingJsonTemp, JSON.stringify(report, null, 2) + "\n");
    await rmdir(out).catch(() => undefined);
    await rename(workDir, out);
    return { adapterPath: join(out, "adapter.gguf"), trainingJson: join(out, "training.json"), report };
  } catch (error) {
    await rm(workDir, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === "ENOSPC") throw new CouncilError("DISK_FULL", `Disk full while writing ${out}.`, { cause: error });
    // The trainer names lines of the rendered file, which has the user's lines in the same order: name the user's file.
    if (isCouncilError(error, "DATASET_INVALID") && error.message.includes(renderedPath)) {
      throw new CouncilError("DATASET_INVALID", error.message.replaceAll(renderedPath, given.file), { cause: error, details: { ...error.details, path: given.file } });
    }
    throw error;
  }
}

/** How the examples were given and, for conversations, whose chat template rendered them. */
function datasetFormat(dataset: ResolvedDataset, chatTemplate: ChatTemplate | undefined): Record<string, unknown> {
  if (dataset.conversations === 0) return {};
  return { datasetFormat: dataset.conversations === dataset.examples ? "conversational" : "mixed", chatTemplate: chatTemplate !== undefined ? "base-model" : "seedling" };
}

function pickExtra(start: Record<string, unknown> | undefined): Record<string, unknown> {
  if (start === undefined) return {};
  const keep = ["ctx", "windows", "trainedTokens", "lrMin", "warmupSteps", "maskPrompt", "threads", "quantization", "gradientAccumulation", "batchSize", "skippedTargets"];
  return Object.fromEntries(Object.entries(start).filter(([key]) => keep.includes(key)));
}
