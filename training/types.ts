import { z } from "zod";

/** Which trainer produced an adapter: a name registered in training/trainers.ts (`llamacpp-lora`, `qlora`, …). */
export type TrainerName = string;

/** One progress report: after every optimizer step and at the end of every epoch. */
export interface TrainProgress {
  kind: "step" | "epoch";
  /** 1-based. */
  epoch: number;
  epochs: number;
  /** Global optimizer step, 1-based. */
  step: number;
  steps: number;
  /** Mean answer-token cross-entropy of this step (kind `step`) or epoch (kind `epoch`). */
  loss: number;
  tokensPerSecond: number;
  /** Estimated seconds until training ends (undefined before the first step). */
  etaSeconds: number | undefined;
}

export interface TrainOptions {
  /** A prompt/completion JSONL file, or a folder written by `council dataset build` (uses its SFT prompt/completion file and manifest). */
  dataset: string;
  /** The base model: a GGUF, F32, F16 or quantized, llama/qwen2/qwen3 (`llamacpp-lora`) or a Hugging Face model folder (`qlora`). */
  base: string;
  /** Output folder; must not exist (or be empty). Holds `adapter.gguf` and `training.json` when training succeeds, nothing otherwise. */
  out: string;
  /** @default 16 */
  rank?: number;
  /** @default 32 */
  alpha?: number;
  /** @default 8 */
  epochs?: number;
  /** Peak learning rate (linear warm-up, cosine decay to a tenth). @default 1e-3 */
  learningRate?: number;
  /** GGUF short names (`attn_q`, `ffn_down`, ...). @default attention q/k/v/o and FFN gate/up/down */
  targets?: readonly string[];
  /** Continue training this adapter instead of starting a new one (llamacpp-lora). Must fit `base`. */
  resumeAdapter?: string;
  /** Aborts training: the promise rejects with CANCELLED and nothing is left in `out`. */
  signal?: AbortSignal;
  onProgress?: (progress: TrainProgress) => void;
}

export interface TrainResult {
  /** `<out>/adapter.gguf` */
  adapterPath: string;
  /** `<out>/training.json` */
  trainingJson: string;
  report: TrainingReport;
}

/** Trains a LoRA adapter. Every implementation passes `trainerContract` (training/trainer.contract.ts). */
export interface Trainer {
  readonly name: TrainerName;
  train(options: TrainOptions): Promise<TrainResult>;
}

export const lossPointSchema = z.object({ epoch: z.number().int().positive(), loss: z.number(), seconds: z.number().nonnegative(), tokensPerSecond: z.number().nonnegative() });

/** `training.json`: what was trained, on what, how, and how it went. */
export const trainingReportSchema = z.object({
  version: z.literal(1),
  trainer: z.string().min(1),
  createdAt: z.string(),
  adapter: z.object({ file: z.literal("adapter.gguf"), sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().positive() }),
  base: z.object({ path: z.string(), sha256: z.string().regex(/^[0-9a-f]{64}$/), name: z.string().optional() }),
  dataset: z.object({
    path: z.string(),
    file: z.string(),
    /** sha256 of the dataset manifest (`manifest.json` sha256 field) when trained from a dataset folder, else of the JSONL file. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    fileSha256: z.string().regex(/^[0-9a-f]{64}$/),
    examples: z.number().int().positive(),
  }),
  hyperparameters: z.object({
    rank: z.number().int().positive(),
    alpha: z.number().positive(),
    epochs: z.number().int().positive(),
    learningRate: z.number().positive(),
    targets: z.array(z.string()),
    resumedFrom: z.string().optional(),
    extra: z.record(z.unknown()).default({}),
  }),
  /** Mean answer-token loss per epoch. */
  lossCurve: z.array(lossPointSchema).min(1),
  stepLosses: z.array(z.number().nullable()),
  durationSeconds: z.number().nonnegative(),
  trainSeconds: z.number().nonnegative(),
  tokensPerSecond: z.number().nonnegative(),
  peakRssBytes: z.number().int().nonnegative(),
  trainableParams: z.number().int().nonnegative(),
  modelParams: z.number().int().nonnegative().optional(),
});

export type TrainingReport = z.infer<typeof trainingReportSchema>;

/** Default LoRA targets (GGUF tensor short names). */
export const DEFAULT_LORA_TARGETS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"] as const;
