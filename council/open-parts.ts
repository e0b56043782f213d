import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { CouncilConfig, CouncilMetrics, Logger } from "../core/index.js";
import { openKnowledgeBase, openMemory, openVerifiedMemory, type KnowledgeBase, type MemoryStore, type VerifiedMemory } from "../memory/index.js";
import { createChatModel, createEmbeddings, resolveServing, type AdapterHost, type CouncilChatModel, type ServingTarget } from "../models/index.js";
import type { Disposable } from "./create-council.js";

export interface CouncilParts {
  chatModel: CouncilChatModel;
  /** The adapter host of the configured serving target; null when Council cannot load adapters there (chat runs on the base model, no nightly loop). */
  adapterHost: AdapterHost | null;
  /** The serving target of the configured chat backend. */
  servingTarget: ServingTarget;
  embeddings: EmbeddingsInterface;
  memory: MemoryStore;
  knowledgeBase: KnowledgeBase;
  /** Verified answers the nightly council voted for (`<dataDir>/data/memory/verified.sqlite`). */
  verified: VerifiedMemory;
  /** Name of the base model recorded with turns. */
  modelName: string;
  /** Everything opened, in release order. */
  owned: Disposable[];
}

/**
 * Opens the parts every council process needs from config, each from its registry: the chat backend
 * (`model.backend`, the seedling by default) and its serving target, the embeddings (`embeddings.backend`), the
 * memory store (`memory.store`, SQLite + FAISS under the data dir by default), and the knowledge base (kb.dir +
 * kb.extraDirs, indexed at start). On failure, whatever was opened is released before the error propagates.
 */
export async function openCouncilParts({ config, logger, metrics }: { config: CouncilConfig; logger: Logger; metrics: CouncilMetrics }): Promise<CouncilParts> {
  const owned: Disposable[] = [];
  try {
    const chat = await createChatModel({ config, logger });
    owned.push(chat);
    const { target, host } = resolveServing({ config, chat });
    const opened = await createEmbeddings({ config, logger });
    owned.push(opened);
    const embeddings = opened.embeddings;
    const memory = await openMemory({ config, embeddings, logger, metrics });
    owned.unshift(memory);
    const { kb } = await openKnowledgeBase({ config, embeddings, logger });
    owned.unshift(kb);
    const verified = await openVerifiedMemory({ config, embeddings, logger });
    owned.unshift(verified);
    return { chatModel: chat.model, adapterHost: host, servingTarget: target, embeddings, memory, knowledgeBase: kb, verified, modelName: chat.modelName, owned };
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
