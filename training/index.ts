export {
  DEFAULT_LORA_TARGETS,
  lossPointSchema,
  trainingReportSchema,
  type Trainer,
  type TrainerName,
  type TrainingReport,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
} from "./types.js";
export { LlamaCppLoraTrainer, LORA_TRAINER_BINARY, inspectGgufBase, type GgufBaseInfo, type LlamaCppLoraTrainerOptions } from "./llamacpp-lora-trainer.js";
export { chooseLoraTargets, isTrainableWeightType, TRAINABLE_ARCHITECTURES } from "./lora-targets.js";
export { QloraTrainer, QLORA_SCRIPT, HF_TARGET_NAMES, inspectHfBase, hfChatTemplate, type QloraTrainerOptions } from "./qlora-trainer.js";
export { createTrainer, type CreateTrainerOptions } from "./create-trainer.js";
export { trainers, llamacppLoraTrainerBackend, qloraTrainerBackend, type TrainerBackend, type TrainerCapabilities, type TrainerContext, type TrainerBaseKind } from "./trainers.js";
export { trainBase, checkTrainBase, type TrainBase, type TrainBaseCheck, type TrainBaseOptions } from "./train-base.js";
export { resolveDataset, renderConversations, type ResolvedDataset } from "./training-dataset.js";
export { parseDatasetLine, promptCompletionSchema, ACCEPTED_FORMATS, type DatasetLine, type DatasetLineResult } from "./dataset-line.js";
export { runTrainerProcess, type TrainerProcessOptions, type TrainerProcessResult } from "./trainer-process.js";
export { trainerEventSchema, type TrainerEvent } from "./trainer-events.js";
export {
  buildDataset,
  DATASET_FILES,
  loadEvalSet,
  readJsonl,
  acceptedExampleSchema,
  evalItemSchema,
  type AcceptedExample,
  type RatedExample,
  type BuildDatasetOptions,
  type DatasetManifest,
  type FilterReport,
  type EvalSet,
  type EvalItem,
} from "./datasets/index.js";
export { tokenF1, cutAnswer } from "./answer-f1.js";
export { nightlyTrainingSet, type NightlyExample, type NightlyTrainingRow, type ReplayPick } from "./nightly-replay.js";
export { ADAPTER_SCOPE_KEYS, MAX_SCOPE_KEEP, readAdapterScope, scopeMatcher, scopeSimilarity, scopeTrainedAdapter, writeAdapterScope, type AdapterScope } from "./adapter-scope.js";
