import { join } from "node:path";
import { CouncilError, modelPath, PROJECT_ROOT, silentLogger, type CouncilConfig, type Logger } from "../core/index.js";
import { LlamaChatModel, type AdapterValidator } from "./llama-chat-model.js";
import { LlamaServerChatModel } from "./llama-server-chat-model.js";
import { OpenAIChatModel } from "./openai-chat-model.js";

/** Where `hf:` model URIs are looked up (Council never downloads them). */
export const HF_MODELS_DIR = join(PROJECT_ROOT, "models", "hf");

export type CouncilChatModel = LlamaChatModel | OpenAIChatModel | LlamaServerChatModel;

export interface CreateChatModelOptions {
  config: Pick<CouncilConfig, "model">;
  logger?: Logger;
  /** Adapter check for the llama backend. @default validateLoraAdapter */
  validateAdapter?: AdapterValidator;
}

/**
 * The chat backend named by `config.model.backend`: `llama` (node-llama-cpp in process, the default, on the
 * seedling unless COUNCIL_MODEL names another GGUF), `openai` (any OpenAI-compatible server) or `llama-server`
 * (a running llama.cpp server at COUNCIL_LLAMA_SERVER_URL with adapters preloaded).
 * Unknown backend: BACKEND_UNKNOWN; missing settings: CONFIG_INVALID naming the variable.
 */
export async function createChatModel({ config, logger = silentLogger, validateAdapter }: CreateChatModelOptions): Promise<CouncilChatModel> {
  const model = config.model;
  const backend: string = model.backend;
  switch (backend) {
    case "llama":
      return LlamaChatModel.create({
        modelPath: modelPath(config as CouncilConfig),
        modelsDir: HF_MODELS_DIR,
        ...(model.threads === undefined ? {} : { threads: model.threads }),
        contextSize: model.contextSize,
        parallel: model.parallel,
        maxTokens: model.maxTokens,
        temperature: model.temperature,
        ...(model.loopBan ? {} : { loopBan: false }),
        ...(validateAdapter === undefined ? {} : { validateAdapter }),
        logger: logger.child({ component: "llama" }),
      });
    case "openai":
      if (model.openaiBaseUrl === undefined) throw new CouncilError("CONFIG_INVALID", "The openai backend needs COUNCIL_OPENAI_BASE_URL (config key \"model.openaiBaseUrl\").", { details: { key: "model.openaiBaseUrl" } });
      if (model.openaiModel === undefined) throw new CouncilError("CONFIG_INVALID", "The openai backend needs COUNCIL_OPENAI_MODEL (config key \"model.openaiModel\").", { details: { key: "model.openaiModel" } });
      return OpenAIChatModel.create({
        baseUrl: model.openaiBaseUrl,
        model: model.openaiModel,
        ...(model.openaiApiKey === undefined ? {} : { apiKey: model.openaiApiKey }),
        maxTokens: model.maxTokens,
        temperature: model.temperature,
      });
    case "llama-server":
      if (model.llamaServerUrl === undefined) throw new CouncilError("CONFIG_INVALID", "The llama-server backend needs COUNCIL_LLAMA_SERVER_URL (config key \"model.llamaServerUrl\").", { details: { key: "model.llamaServerUrl" } });
      return LlamaServerChatModel.create({ baseUrl: model.llamaServerUrl, maxTokens: model.maxTokens, temperature: model.temperature });
    default:
      throw new CouncilError("BACKEND_UNKNOWN", `Unknown chat backend "${backend}". Set COUNCIL_BACKEND to llama, openai or llama-server.`, { details: { backend } });
  }
}
