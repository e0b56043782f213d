import type { CouncilConfig } from "../core/index.js";
import { LlamaCppLoraTrainer, type LlamaCppLoraTrainerOptions } from "./llamacpp-lora-trainer.js";
import { QloraTrainer, type QloraTrainerOptions } from "./qlora-trainer.js";
import type { Trainer } from "./types.js";

export interface CreateTrainerOptions {
  config: Pick<CouncilConfig, "training">;
  llamacpp?: LlamaCppLoraTrainerOptions;
  qlora?: QloraTrainerOptions;
}

/** The trainer `training.trainer` names (`llamacpp-lora` by default). Throws NATIVE_MISSING when it is not built. */
export function createTrainer({ config, llamacpp, qlora }: CreateTrainerOptions): Promise<Trainer> {
  return config.training.trainer === "qlora" ? QloraTrainer.create(qlora) : LlamaCppLoraTrainer.create(llamacpp);
}
