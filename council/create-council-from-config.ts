import { createMetrics, Registry, silentLogger, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { ManualPages } from "../memory/index.js";
import { createCouncil, type Council, type CreateCouncilOptions } from "./create-council.js";
import { openCouncilParts } from "./open-parts.js";

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
  const { chatModel, embeddings, memory, knowledgeBase, modelName, owned } = await openCouncilParts({ config, logger, metrics });
  try {
    return await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase, manual: new ManualPages(), metrics, logger, owned, modelName, ...(selectAdapter ? { selectAdapter } : {}) });
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
