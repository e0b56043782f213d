import type { BackendRegistry, CouncilConfig } from "../core/index.js";
import { trainers, type TrainerBackend, type TrainerContext } from "./trainers.js";
import type { Trainer } from "./types.js";

export interface CreateTrainerOptions extends TrainerContext {
  config: Pick<CouncilConfig, "training">;
  /** @default the built-in registry ({@link trainers}) */
  registry?: Pick<BackendRegistry<TrainerBackend>, "get">;
}

/**
 * The trainer `training.trainer` (COUNCIL_TRAINER) names in the registry (`llamacpp-lora` by default).
 * Unknown name: BACKEND_UNKNOWN listing the registered ones; not built: NATIVE_MISSING.
 */
export async function createTrainer({ config, registry = trainers, ...context }: CreateTrainerOptions): Promise<Trainer> {
  return registry.get(config.training.trainer).create(config, context);
}
