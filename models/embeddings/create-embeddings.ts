import { silentLogger, type BackendRegistry, type CouncilConfig, type Logger } from "../../core/index.js";
import { embeddingsBackends, type EmbeddingsBackend, type OpenedEmbeddings } from "./embedding-backends.js";

export interface CreateEmbeddingsOptions {
  config: Pick<CouncilConfig, "model" | "embeddings">;
  logger?: Logger;
  /** @default the built-in registry ({@link embeddingsBackends}) */
  registry?: Pick<BackendRegistry<EmbeddingsBackend>, "get">;
}

/**
 * Opens the embeddings `config.embeddings.backend` names in the registry (`hash` by default). Unknown name:
 * BACKEND_UNKNOWN listing the registered ones; a missing setting: CONFIG_INVALID naming its variable.
 */
export async function createEmbeddings({ config, logger = silentLogger, registry = embeddingsBackends }: CreateEmbeddingsOptions): Promise<OpenedEmbeddings> {
  logger.debug({ backend: config.embeddings.backend }, "creating embeddings");
  return registry.get(config.embeddings.backend).create(config, { logger });
}
