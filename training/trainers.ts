import { z } from "zod";
import { BackendRegistry, defineBackend, type Backend } from "../core/index.js";
import { LlamaCppLoraTrainer } from "./llamacpp-lora-trainer.js";
import { QloraTrainer } from "./qlora-trainer.js";
import type { Trainer } from "./types.js";

/** What a trainer trains on: a GGUF file (`training.base`, default the served model) or a Hugging Face model folder (`training.base`, required). */
export type TrainerBaseKind = "gguf" | "hf-checkpoint";

/** Typed capabilities of a trainer. */
export interface TrainerCapabilities {
  /** Where it trains. */
  device: "cpu" | "gpu";
  /** Can continue an existing adapter (`resumeAdapter`). */
  resume: boolean;
  /** The base it takes (checked by `council doctor`, resolved by `trainBase`): a GGUF (F32, F16 or quantized; llama, qwen2, qwen3), or a Hugging Face checkpoint folder. */
  base: TrainerBaseKind;
}

/** Run-time tuning a command passes on (`council train --threads --ctx`); a trainer ignores what it has no use for. */
export interface TrainerContext {
  threads?: number;
  contextSize?: number;
}

export type TrainerBackend = Backend<TrainerContext, Promise<Trainer>, TrainerCapabilities>;

/** `llamacpp-lora`: native/lora-train on CPU (the default). */
export const llamacppLoraTrainerBackend: TrainerBackend = defineBackend({
  name: "llamacpp-lora",
  description: "native/lora-train (llama.cpp ggml-opt) on CPU, GGUF base (F32/F16/Q8_0/Q4_0/…; llama, qwen2, …)",
  configSchema: z.object({ training: z.object({ gradClip: z.number().min(0).optional() }).optional() }),
  capabilities: { device: "cpu", resume: true, base: "gguf" },
  open: (settings, { threads, contextSize }) => {
    const gradClip = settings.training?.gradClip;
    return LlamaCppLoraTrainer.create({ ...(threads === undefined ? {} : { threads }), ...(contextSize === undefined ? {} : { contextSize }), ...(gradClip === undefined ? {} : { gradClip }) });
  },
});

/** `qlora`: transformers + peft 4-bit on a CUDA host (training/qlora). */
export const qloraTrainerBackend: TrainerBackend = defineBackend({
  name: "qlora",
  description: "QLoRA (transformers + peft, Python) on a GPU, Hugging Face checkpoint base",
  configSchema: z.object({}),
  capabilities: { device: "gpu", resume: false, base: "hf-checkpoint" },
  open: () => QloraTrainer.create(),
});

/** Trainers by name; `training.trainer` (COUNCIL_TRAINER) picks one. A new trainer is one file plus one `.register` here. */
export const trainers = new BackendRegistry<TrainerBackend>({ kind: "trainer", configKey: "training.trainer" })
  .register(llamacppLoraTrainerBackend)
  .register(qloraTrainerBackend);
