import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { BackendRegistry, dataPaths, defineBackend, type Backend, type CouncilMetrics, type Logger } from "../core/index.js";
import { FaissMemory } from "./faiss-memory.js";
import { InMemoryStore } from "./in-memory-store.js";
import { PostgresMemory } from "./postgres-memory.js";
import type { MemoryStore } from "./types.js";

/** Typed capabilities of a memory store. */
export interface MemoryStoreCapabilities {
  /** Turns survive a restart (and, for the durable stores, kill -9 once `record` resolves). */
  persistent: boolean;
  /** Several Council replicas can write and search one store (a database server, not a file in one data dir). */
  sharedAcrossReplicas: boolean;
}

/** What a memory store's `open` receives besides its settings. */
export interface MemoryStoreContext {
  embeddings: EmbeddingsInterface;
  logger: Logger;
  metrics?: Pick<CouncilMetrics, "memoryEntries">;
}

export type MemoryStoreBackend = Backend<MemoryStoreContext, Promise<MemoryStore>, MemoryStoreCapabilities>;

/** `sqlite`: SQLite in `<dataDir>/data/memory` as the source of truth, with a FAISS index cache beside it (FaissMemory). */
export const sqliteMemoryStore: MemoryStoreBackend = defineBackend({
  name: "sqlite",
  description: "SQLite in <dataDir>/data/memory with a FAISS index cache (one process per data dir)",
  // memory.faissThread: "worker" (default) or "main" (faiss-node on the event loop; see FaissThread in faiss-index.ts).
  configSchema: z.object({ dataDir: z.string(), memory: z.object({ faissThread: z.enum(["worker", "main"]).optional() }).optional() }),
  capabilities: { persistent: true, sharedAcrossReplicas: false },
  open: ({ dataDir, memory }, { embeddings, logger, metrics }) =>
    FaissMemory.create({ dir: dataPaths({ dataDir }).memory, embeddings, logger, ...(metrics ? { metrics } : {}), ...(memory?.faissThread ? { faissThread: memory.faissThread } : {}) }),
});

/** `in-memory`: turns live in this process only (tests, demos). */
export const inMemoryStore: MemoryStoreBackend = defineBackend({
  name: "in-memory",
  description: "this process only; nothing persists (tests, demos)",
  configSchema: z.object({}),
  capabilities: { persistent: false, sharedAcrossReplicas: false },
  open: (_settings, { embeddings, metrics }) => InMemoryStore.create({ embeddings, ...(metrics ? { metrics } : {}) }),
});

/** `postgres`: Postgres at `memory.databaseUrl` (COUNCIL_DATABASE_URL) is the truth; each replica's search cache follows it. */
export const postgresMemoryStore: MemoryStoreBackend = defineBackend({
  name: "postgres",
  description: "Postgres at COUNCIL_DATABASE_URL, shared by every replica (migrations applied at start)",
  configSchema: z.object({ memory: z.object({ databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL") }) }),
  capabilities: { persistent: true, sharedAcrossReplicas: true },
  open: ({ memory }, { embeddings, logger, metrics }) => PostgresMemory.create({ url: memory.databaseUrl, embeddings, logger, ...(metrics ? { metrics } : {}) }),
});

/** Memory stores by name; `memory.store` (COUNCIL_STORE) picks one. A new store is one file plus one `.register` here. */
export const memoryStores = new BackendRegistry<MemoryStoreBackend>({ kind: "memory store", configKey: "memory.store" })
  .register(sqliteMemoryStore)
  .register(inMemoryStore)
  .register(postgresMemoryStore);
