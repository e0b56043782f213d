export { llamaParameterCount, llamaTensorDims, writeLlamaModel, type LlamaShape, type WriteLlamaModelOptions } from "./llama-model.js";
export { loadKbDocuments, parseKbDocument, type KbDocument, type KbQuestion, type KbSection } from "./kb-corpus.js";
export { buildTrainingText, type TrainingText, type TrainingTextOptions } from "./training-text.js";
export { finetuneBinary, parseFinetuneProgress, runFinetune, type EpochLoss, type FinetuneOptions } from "./llama-finetune.js";
export { DEFAULT_SEEDLING_RECIPE, DEFAULT_SYSTEM_PROMPT, recipeKey, resolveRecipe, seedlingCodeHash, type SeedlingRecipe } from "./seedling-recipe.js";
export { buildSeedling, seedlingKey, seedlingReportPath, type BuildSeedlingOptions, type SeedlingReport } from "./build-seedling.js";
export { ensureSeedling, verifySeedlingFile, READING_KEY_PREFIX, type EnsureSeedlingOptions, type EnsureSeedlingResult } from "./ensure-seedling.js";
