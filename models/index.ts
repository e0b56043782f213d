// Chat backends
export { LlamaChatModel, validateLoraAdapter, type AdapterValidator, type LlamaCallOptions, type LlamaChatModelOptions } from "./llama-chat-model.js";
export { OpenAIChatModel, type OpenAIChatModelOptions } from "./openai-chat-model.js";
export { LlamaServerChatModel, type LlamaServerChatModelOptions } from "./llama-server-chat-model.js";
export { LLAMA_CPP_TOOL_ARGS, LlamaServerProcess, type LlamaServerProcessOptions } from "./llama-server-process.js";
export { createChatModel, resolveServing, HF_MODELS_DIR, type CreateChatModelOptions, type ResolveServingOptions } from "./create-chat-model.js";
export { chatBackends } from "./chat-backends.js";
export { llamaChatBackend } from "./llama-backend.js";
export { openaiChatBackend } from "./openai-backend.js";
export { llamaServerChatBackend } from "./llama-server-backend.js";
export { servingTargets, inProcessTarget, llamaServerTarget, openaiCompatibleTarget } from "./serving-targets.js";
export { resolveModelSource, assertGgufFile, type ResolveModelSourceOptions } from "./llama-model-source.js";
export { messageText, toTemplateMessages } from "./langchain-messages.js";
export { SequencePool } from "./sequence-pool.js";
export type {
  AdapterHost,
  AdapterLease,
  AdapterSlotInfo,
  ChatBackend,
  ChatBackendCapabilities,
  ChatBackendContext,
  CouncilCallOptions,
  CouncilChatModel,
  OpenedChatModel,
  ServingTarget,
  ServingTargetCapabilities,
} from "./types.js";
// Prompt template (shared by inference and training)
export { renderPrompt, renderExample, TEMPLATE_MARKERS, type TemplateMessage, type TemplateRole } from "./prompt-template.js";
export { chatTemplateRenderer, exampleRenderer, ggufChatTemplate, type ChatTemplate, type ExampleRenderer } from "./chat-template.js";
// Embeddings
export { HashEmbeddings, type HashEmbeddingsOptions } from "./embeddings/hash-embeddings.js";
export { LlamaEmbeddings, type LlamaEmbeddingsOptions } from "./embeddings/llama-embeddings.js";
export { OpenAICompatibleEmbeddings, type OpenAICompatibleEmbeddingsOptions } from "./embeddings/openai-embeddings.js";
export { createEmbeddings, type CreateEmbeddingsOptions } from "./embeddings/create-embeddings.js";
export {
  embeddingsBackends,
  hashEmbeddingsBackend,
  llamaEmbeddingsBackend,
  openaiEmbeddingsBackend,
  type EmbeddingsBackend,
  type EmbeddingsCapabilities,
  type OpenedEmbeddings,
} from "./embeddings/embedding-backends.js";
// GGUF reader/writer and LoRA adapter files
export {
  GGML_TYPES,
  GGML_TYPE_F16,
  GGML_TYPE_F32,
  GGUF_VERSION,
  ggmlTensorByteSize,
  readGguf,
  readTensorBytes,
  readTensorF32,
  ggufNumber,
  ggufString,
  writeGguf,
  loraPairDims,
  readAdapterBaseInfo,
  readLoraAdapter,
  readLoraPair,
  resolveLoraTargets,
  validateAdapterForBase,
  writeLoraAdapter,
  writeZeroBAdapter,
  SeededRandom,
  sha256File,
  type GgufFile,
  type GgufKv,
  type GgufScalarType,
  type GgufTensorInfo,
  type GgufValue,
  type GgufTensorInput,
  type WriteGgufOptions,
  type AdapterBaseInfo,
  type AdapterSummary,
  type LoraPairInit,
  type WriteLoraAdapterOptions,
} from "./gguf/index.js";
// Tokenizer and seedling model
export {
  buildSpmVocab,
  byteToken,
  SPECIAL_PIECES,
  SPM_SPACE,
  TOKEN_TYPE,
  learnBpe,
  preTokenize,
  toSpmText,
  type SpmVocab,
  type LearnBpeOptions,
  type LearnedBpe,
} from "./tokenizer/index.js";
export {
  llamaParameterCount,
  llamaTensorDims,
  writeLlamaModel,
  loadKbDocuments,
  parseKbDocument,
  buildTrainingText,
  finetuneBinary,
  parseFinetuneProgress,
  runFinetune,
  DEFAULT_SEEDLING_RECIPE,
  DEFAULT_SYSTEM_PROMPT,
  recipeKey,
  resolveRecipe,
  seedlingCodeHash,
  buildSeedling,
  seedlingKey,
  seedlingReportPath,
  ensureSeedling,
  verifySeedlingFile,
  type LlamaShape,
  type WriteLlamaModelOptions,
  type KbDocument,
  type KbQuestion,
  type KbSection,
  type TrainingText,
  type TrainingTextOptions,
  type EpochLoss,
  type FinetuneOptions,
  type SeedlingRecipe,
  type BuildSeedlingOptions,
  type SeedlingReport,
  type EnsureSeedlingOptions,
  type EnsureSeedlingResult,
} from "./seedling/index.js";
