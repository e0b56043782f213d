import { access, constants, stat } from "node:fs/promises";
import { join } from "node:path";
import { CouncilError, NATIVE_BUILD_DIR } from "../core/index.js";
import { ggufChatTemplate, type ChatTemplate } from "../models/index.js";
import { readGguf, sha256File, validateAdapterForBase } from "../models/gguf/index.js";
import { chooseLoraTargets, isTrainableWeightType, TRAINABLE_ARCHITECTURES } from "./lora-targets.js";
import { runTraining } from "./run-training.js";
import type { Trainer, TrainOptions, TrainResult } from "./types.js";

/** Where `npm run setup` installs the trainer binary. */
export const LORA_TRAINER_BINARY = join(NATIVE_BUILD_DIR, "bin", "council-lora-train");

export interface LlamaCppLoraTrainerOptions {
  /** @default native/build/bin/council-lora-train */
  binaryPath?: string;
  /** CPU threads for training. @default all cores */
  threads?: number;
  /** Context every example must fit, in tokens; 0 = the base model's training context. Windows are rounded up to 256. @default 0 */
  contextSize?: number;
  /** @default 0.1 of the steps */
  warmup?: number;
  /** @default 42 */
  seed?: number;
  /** Largest global gradient L2 norm before each optimizer step; 0 = no clipping (config training.gradClip). @default 0 */
  gradClip?: number;
  /** Train on prompt tokens too (for measuring the effect of masking). @default true */
  maskPrompt?: boolean;
  /** Free bytes in `/` beside the output (tests). */
  freeBytes?: (dir: string) => Promise<number>;
  now?: () => number;
}

/**
 * The default trainer: native/lora-train (C++ on llama.cpp's ggml-opt) trains F32 LoRA A/B tensors on CPU over a
 * frozen GGUF base (F32, F16 or quantized: Q8_0, Q4_0, Q4_K, ...; llama, qwen2, qwen3), loss on
 * answer tokens only, and writes a GGUF adapter that llama.cpp and node-llama-cpp load. LoRA targets are chosen
 * per base from the tensors it has (see chooseLoraTargets).
 */
export class LlamaCppLoraTrainer implements Trainer {
  readonly name = "llamacpp-lora" as const;

  private constructor(private readonly binaryPath: string, private readonly settings: LlamaCppLoraTrainerOptions) {}

  /** Throws NATIVE_MISSING when the trainer binary has not been built (`npm run setup`). */
  static async create(settings: LlamaCppLoraTrainerOptions = {}): Promise<LlamaCppLoraTrainer> {
    const binaryPath = settings.binaryPath ?? LORA_TRAINER_BINARY;
    try {
      await access(binaryPath, constants.X_OK);
    } catch (cause) {
      throw new CouncilError("NATIVE_MISSING", `The LoRA trainer ${binaryPath} is missing or not executable; run npm run setup.`, { cause, details: { path: binaryPath } });
    }
    return new LlamaCppLoraTrainer(binaryPath, settings);
  }

  train(options: TrainOptions): Promise<TrainResult> {
    const { threads, contextSize = 0, warmup = 0.1, seed = 42, maskPrompt = true, gradClip = 0 } = this.settings;
    let inspected: GgufBaseInfo | undefined;
    return runTraining({
      trainer: this.name,
      options,
      inspectBase: async (base) => {
        inspected = await inspectGgufBase(base);
        return inspected;
      },
      checkResume: async ({ adapter, base }) => {
        await validateAdapterForBase({ adapter, base });
      },
      // the adapter (MBs) plus the initial adapter and slack
      minFreeBytes: 64 * 1024 * 1024,
      freeBytes: this.settings.freeBytes,
      now: this.settings.now,
      extra: { warmup, seed, maskPrompt, gradClip },
      command: ({ dataset, base, baseSha256, adapterPath, hyperparameters: h, resumeAdapter }) => ({
        command: this.binaryPath,
        args: [
          "--model", base,
          "--data", dataset.file,
          "--out", adapterPath,
          "--rank", String(h.rank),
          "--alpha", String(h.alpha),
          "--epochs", String(h.epochs),
          "--lr", String(h.learningRate),
          "--targets", chooseLoraTargets({ requested: h.targets, tensorNames: inspected?.weightNames ?? [], architecture: inspected?.architecture ?? "unknown" }).targets.join(","),
          "--warmup", String(warmup),
          "--seed", String(seed),
          "--clip", String(gradClip),
          "--ctx", String(contextSize),
          "--base-sha256", baseSha256,
          ...(threads !== undefined ? ["--threads", String(threads)] : []),
          ...(resumeAdapter !== undefined ? ["--adapter", resumeAdapter] : []),
          ...(maskPrompt ? [] : ["--no-mask"]),
        ],
      }),
    });
  }
}

export interface GgufBaseInfo {
  sha256: string;
  name?: string;
  chatTemplate?: ChatTemplate;
  architecture: string;
  /** Names of its 2-D tensors (where LoRA targets can go). */
  weightNames: string[];
}

/**
 * A GGUF base the native trainer takes (architecture in TRAINABLE_ARCHITECTURES, weights F32, F16 or quantized, not BF16):
 * MODEL_NOT_FOUND when missing, MODEL_INVALID otherwise. Returns its chat template when it has one.
 */
export async function inspectGgufBase(base: string): Promise<GgufBaseInfo> {
  const info = await stat(base).catch(() => undefined);
  if (info === undefined || !info.isFile()) throw new CouncilError("MODEL_NOT_FOUND", `Base model ${base} does not exist.`, { details: { path: base } });
  let file;
  try {
    file = readGguf(base);
  } catch (cause) {
    throw new CouncilError("MODEL_INVALID", `Base model ${base} is not a readable GGUF: ${(cause as Error).message}`, { cause, details: { path: base } });
  }
  const architecture = file.metadata.get("general.architecture");
  if (file.metadata.get("general.type") === "adapter") throw new CouncilError("MODEL_INVALID", `${base} is an adapter, not a base model.`, { details: { path: base } });
  if (typeof architecture !== "string" || !(TRAINABLE_ARCHITECTURES as readonly string[]).includes(architecture)) {
    throw new CouncilError("MODEL_INVALID", `Base model ${base} has architecture ${String(architecture)}; the LoRA trainer supports ${TRAINABLE_ARCHITECTURES.join(", ")} (not gemma2/3 or phi3: ggml has no backward for their GEGLU, tanh soft-capping and fused SwiGLU).`, { details: { path: base, architecture } });
  }
  const untrainable = file.tensors.find((tensor) => !isTrainableWeightType(tensor.type));
  if (untrainable !== undefined) {
    throw new CouncilError(
      "MODEL_INVALID",
      `Base model ${base} has ${untrainable.typeName} weights (${untrainable.name}); the LoRA trainer cannot backpropagate through ${untrainable.typeName} (ggml's CPU OUT_PROD has no kernel for it). Convert the base to F16 or Q8_0 with llama-quantize.`,
      { details: { path: base, tensor: untrainable.name, type: untrainable.typeName } },
    );
  }
  const name = file.metadata.get("general.name");
  const chatTemplate = ggufChatTemplate(file);
  const weightNames = file.tensors.filter((tensor) => tensor.dims.length === 2).map((tensor) => tensor.name);
  return { sha256: await sha256File(base), ...(typeof name === "string" ? { name } : {}), ...(chatTemplate !== undefined ? { chatTemplate } : {}), architecture, weightNames };
}
