import { basename } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { modelPath, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { openEventLog, openKnowledgeBase, openMemory, openVerifiedMemory, withEventLog, type EventLog, type KnowledgeBase, type MemoryStore, type VerifiedMemory } from "../memory/index.js";
import { createChatModel, createEmbeddings, type CouncilChatModel } from "../models/index.js";
import type { Disposable } from "./create-council.js";

export interface CouncilParts {
  chatModel: CouncilChatModel;
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
 * Opens the parts every council process needs from config: the configured chat backend (the seedling by
 * default), embeddings, FAISS memory under the data dir, and the knowledge base (kb.dir + kb.extraDirs,
 * indexed at start). On failure, whatever was opened is released before the error propagates.
 */
export async function openCouncilParts({ config, logger, metrics }: { config: CouncilConfig; logger: Logger; metrics: CouncilMetrics }): Promise<CouncilParts> {
  const owned: Disposable[] = [];
  try {
    const chatModel = await createChatModel({ config, logger });
    if ("dispose" in chatModel) owned.push(chatModel as unknown as Disposable);
    const embeddings = await createEmbeddings({ config, logger });
    if ("dispose" in embeddings) owned.push(embeddings as unknown as Disposable);
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
    const modelName = config.model.backend === "openai" ? (config.model.openaiModel ?? "openai") : basename(modelPath(config));
    return { chatModel, embeddings, memory, knowledgeBase: kb, verified, events, modelName, owned };
  } catch (error) {
    for (const resource of owned) await resource.dispose();
    throw error;
  }
}
