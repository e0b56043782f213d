import { basename } from "node:path";
import { createMetrics, modelPath, Registry, silentLogger, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { openKnowledgeBase, openMemory } from "../memory/index.js";
import { createChatModel, createEmbeddings } from "../models/index.js";
import { createCouncil, type Council, type CreateCouncilOptions, type Disposable } from "./create-council.js";

export interface CreateCouncilFromConfigOptions {
  /** @default silentLogger */
  logger?: Logger;
  /** @default metrics on a fresh registry */
  metrics?: CouncilMetrics;
  /** Adapter choice per request (the canary router). @default the "stable" slot when loaded, else base */
  selectAdapter?: CreateCouncilOptions["selectAdapter"];
}

/**
 * The chat council built from config alone: the configured chat backend (the seedling by default),
 * embeddings, FAISS memory under the data dir, and the knowledge base (kb.dir + kb.extraDirs, indexed at
 * start). The council owns them all: `dispose()` releases them. (`createCouncilRuntime` adds adapter
 * serving and the nightly loop on top of the same parts.)
 */
export async function createCouncilFromConfig(
  config: CouncilConfig,
  { logger = silentLogger, metrics = createMetrics({ registry: new Registry() }), selectAdapter }: CreateCouncilFromConfigOptions = {},
): Promise<Council> {
  const owned: Disposable[] = [];
  try {
    const chatModel = await createChatModel({ config, logger });
    if ("dispose" in chatModel) owned.push(chatModel as unknown as Disposable);
    const embeddings = await createEmbeddings({ config, logger });
    if ("dispose" in embeddings) owned.push(embeddings as unknown as Disposable);
    const memory = await openMemory({ config, embeddings, logger, metrics });
    owned.unshift(memory);
    const { kb } = await openKnowledgeBase({ config, embeddings, logger });
    owned.unshift(kb);
    const modelName = config.model.backend === "openai" ? (config.model.openaiModel ?? "openai") : basename(modelPath(config));
    return await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase: kb, metrics, logger, owned, modelName, ...(selectAdapter ? { selectAdapter } : {}) });
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
