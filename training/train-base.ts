import { stat } from "node:fs/promises";
import { CouncilError, SEEDLING_PATH, type BackendRegistry, type CouncilConfig } from "../core/index.js";
import { trainers, type TrainerBackend, type TrainerBaseKind } from "./trainers.js";

/** The base a trainer trains on, and where the choice came from. */
export interface TrainBase {
  path: string;
  /** What the configured trainer takes (its `base` capability). */
  kind: TrainerBaseKind;
  /** `training.base` (COUNCIL_TRAIN_BASE), or the served model (COUNCIL_MODEL, the seedling when unset). */
  source: "training.base" | "served-model";
}

export interface TrainBaseOptions {
  config: Pick<CouncilConfig, "training" | "model">;
  /** @default the built-in registry ({@link trainers}) */
  registry?: Pick<BackendRegistry<TrainerBackend>, "get">;
}

/** What `modelPath` in core/config returns, from the model slice alone. */
const servedModel = (config: Pick<CouncilConfig, "model">) => config.model.path ?? SEEDLING_PATH;

const KIND_TEXT: Record<TrainerBaseKind, string> = { gguf: "a GGUF file", "hf-checkpoint": "a Hugging Face model folder (config.json, tokenizer, safetensors)" };

/**
 * The base the configured trainer (`training.trainer`) trains on: `training.base` (COUNCIL_TRAIN_BASE) when set;
 * otherwise, for a trainer that takes a GGUF, the served model. A trainer that takes a Hugging Face folder has
 * no default (the served model is a GGUF): CONFIG_INVALID naming COUNCIL_TRAIN_BASE.
 */
export function trainBase({ config, registry = trainers }: TrainBaseOptions): TrainBase {
  const trainer = config.training.trainer;
  const kind = registry.get(trainer).capabilities.base;
  if (config.training.base !== undefined) return { path: config.training.base, kind, source: "training.base" };
  if (kind === "gguf") return { path: servedModel(config), kind, source: "served-model" };
  throw new CouncilError(
    "CONFIG_INVALID",
    `The ${trainer} trainer trains on ${KIND_TEXT[kind]}, not on the served GGUF (${servedModel(config)}): set COUNCIL_TRAIN_BASE (training.base) to that folder, and serve the GGUF converted from it.`,
    { details: { key: "training.base", trainer } },
  );
}

export type TrainBaseCheck = { ok: true; base: TrainBase; detail: string } | { ok: false; problem: string; fix: string };

/**
 * Whether the configured trainer and base fit together (what `council doctor` reports): the base exists and is of
 * the kind the trainer takes: a `.gguf` file for `llamacpp-lora`, a folder for `qlora`.
 */
export async function checkTrainBase(options: TrainBaseOptions): Promise<TrainBaseCheck> {
  const trainer = options.config.training.trainer;
  let base: TrainBase;
  try {
    base = trainBase(options);
  } catch (error) {
    if (error instanceof CouncilError) return { ok: false, problem: error.message, fix: "set COUNCIL_TRAIN_BASE to the base model's Hugging Face folder (see training/qlora/README.md)" };
    throw error;
  }
  const { path, kind } = base;
  const setBase = `set COUNCIL_TRAIN_BASE to ${KIND_TEXT[kind]}`;
  const otherTrainer = kind === "gguf" ? "COUNCIL_TRAINER=qlora (GPU)" : "COUNCIL_TRAINER=llamacpp-lora (CPU)";
  if (path.startsWith("hf:")) return { ok: false, problem: `${trainer} cannot train on ${path}: it needs a local path (${KIND_TEXT[kind]})`, fix: setBase };
  const info = await stat(path).catch(() => undefined);
  if (info === undefined) return { ok: false, problem: `${trainer} base ${path} (${base.source}) does not exist`, fix: setBase };
  if (kind === "hf-checkpoint" && !info.isDirectory()) {
    return { ok: false, problem: `${trainer} trains on a Hugging Face model folder, but the base ${path} is a file${path.endsWith(".gguf") ? " (a GGUF)" : ""}`, fix: `${setBase}, or use ${otherTrainer} for a GGUF` };
  }
  if (kind === "gguf" && info.isDirectory()) {
    return { ok: false, problem: `${trainer} trains on a GGUF file, but the base ${path} is a folder`, fix: `${setBase}, or use ${otherTrainer} for a Hugging Face folder` };
  }
  return { ok: true, base, detail: `${trainer} trains on ${path} (${kind === "gguf" ? "GGUF" : "Hugging Face folder"}, from ${base.source === "training.base" ? "COUNCIL_TRAIN_BASE" : "the served model"})` };
}
