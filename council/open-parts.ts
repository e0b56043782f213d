import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { CouncilConfig, CouncilMetrics, Logger } from "../core/index.js";
import { openEventLog, openKnowledgeBase, openMemory, openVerifiedMemory, withEventLog, type EventLog, type KnowledgeBase, type MemoryStore, type VerifiedMemory } from "../memory/index.js";
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
  /** The append-only event log (`<dataDir>/events`); memory and verified memory write to it. Null when `eventLog.enabled` is off. */
  events: EventLog | null;
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
    const events = await openEventLog({ config, logger });
    if (events) owned.push(events);
    const turns = await openMemory({ config, embeddings, logger, metrics });
    owned.unshift(turns);
    // Every turn, feedback and correction is in the log before the caller hears back.
    const memory = events ? withEventLog(turns, events) : turns;
    const { kb } = await openKnowledgeBase({ config, embeddings, logger });
    owned.unshift(kb);
    const verified = await openVerifiedMemory({ config, embeddings, logger, ...(events ? { events } : {}) });
    owned.unshift(verified);
    return { chatModel: chat.model, adapterHost: host, servingTarget: target, embeddings, memory, knowledgeBase: kb, verified, events, modelName: chat.modelName, owned };
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
