import { CouncilError, modelPath, silentLogger, type CouncilConfig, type Logger } from "../../core/index.js";
import { HF_MODELS_DIR } from "../create-chat-model.js";
import { HashEmbeddings } from "./hash-embeddings.js";
import { LlamaEmbeddings } from "./llama-embeddings.js";
import { OpenAICompatibleEmbeddings } from "./openai-embeddings.js";

export type CouncilEmbeddings = HashEmbeddings | LlamaEmbeddings | OpenAICompatibleEmbeddings;

export interface CreateEmbeddingsOptions {
  config: Pick<CouncilConfig, "model" | "embeddings">;
  logger?: Logger;
}

/**
 * The embeddings named by `config.embeddings.backend`: `hash` (default; no weights, no network,
 * `embeddings.dimensions` long), `llama` (GGUF `embeddings.model`, default the chat model) or `openai`
 * (`/v1/embeddings` of COUNCIL_OPENAI_BASE_URL with model `embeddings.model`). Unknown: BACKEND_UNKNOWN.
 */
export async function createEmbeddings({ config, logger = silentLogger }: CreateEmbeddingsOptions): Promise<CouncilEmbeddings> {
  const { embeddings, model } = config;
  const backend: string = embeddings.backend;
  logger.debug({ backend }, "creating embeddings");
  switch (backend) {
    case "hash":
      return new HashEmbeddings({ dimensions: embeddings.dimensions });
    case "llama":
      return LlamaEmbeddings.create({
        modelPath: embeddings.model ?? modelPath(config as CouncilConfig),
        modelsDir: HF_MODELS_DIR,
        ...(model.threads === undefined ? {} : { threads: model.threads }),
      });
    case "openai":
      if (model.openaiBaseUrl === undefined) throw new CouncilError("CONFIG_INVALID", "openai embeddings need COUNCIL_OPENAI_BASE_URL (config key \"model.openaiBaseUrl\").", { details: { key: "model.openaiBaseUrl" } });
      if (embeddings.model === undefined) throw new CouncilError("CONFIG_INVALID", "openai embeddings need COUNCIL_EMBEDDING_MODEL (config key \"embeddings.model\").", { details: { key: "embeddings.model" } });
      return new OpenAICompatibleEmbeddings({
        baseUrl: model.openaiBaseUrl,
        model: embeddings.model,
        ...(model.openaiApiKey === undefined ? {} : { apiKey: model.openaiApiKey }),
      });
    default:
      throw new CouncilError("BACKEND_UNKNOWN", `Unknown embeddings backend "${backend}". Set COUNCIL_EMBEDDINGS to hash, llama or openai.`, { details: { backend } });
  }
}
