import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { CouncilError, dataPaths, silentLogger, type BackendRegistry, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import type { EventSink } from "./event-log-schema.js";
import { EventLog } from "./event-log.js";
import { MarkdownKnowledgeBase, type KbIndexReport } from "./markdown-knowledge-base.js";
import { passageRankers } from "./passage-rankers.js";
import { memoryStores, type MemoryStoreBackend } from "./memory-stores.js";
import type { MemoryStore } from "./types.js";
import { VerifiedMemory } from "./verified-memory.js";
import { openPostgresVerifiedRows } from "./verified-postgres.js";

export interface OpenFromConfigOptions {
  config: Pick<CouncilConfig, "dataDir" | "kb">;
  embeddings: EmbeddingsInterface;
  logger?: Logger;
  metrics?: Pick<CouncilMetrics, "memoryEntries">;
}

/** Where memory and the knowledge base live: `<dataDir>/data/memory` and `<dataDir>/data/memory/kb.sqlite`. */
export function memoryPaths(config: Pick<CouncilConfig, "dataDir">): { dir: string; kbStore: string; verified: string } {
  const dir = dataPaths(config).memory;
  return { dir, kbStore: join(dir, "kb.sqlite"), verified: join(dir, "verified.sqlite") };
}

/**
 * Verified memory of this installation, shared by the server and the nightly run: `<dataDir>/data/memory/verified.sqlite`,
 * or with COUNCIL_STORE=postgres the `council_verified` table at COUNCIL_DATABASE_URL (shared by every replica).
 */
export async function openVerifiedMemory({ config, embeddings, logger = silentLogger, events }: Omit<OpenFromConfigOptions, "config"> & { config: Pick<CouncilConfig, "dataDir" | "memory">; events?: EventSink }): Promise<VerifiedMemory> {
  const common = { embeddings, logger, ...(events ? { events } : {}) };
  if (config.memory.store !== "postgres") return VerifiedMemory.create({ path: memoryPaths(config).verified, ...common });
  const url = config.memory.databaseUrl;
  if (url === undefined) throw new CouncilError("CONFIG_INVALID", "COUNCIL_STORE=postgres keeps verified entries in Postgres: set COUNCIL_DATABASE_URL.", { details: { key: "memory.databaseUrl", envKey: "COUNCIL_DATABASE_URL" } });
  return VerifiedMemory.create({ rows: await openPostgresVerifiedRows({ url, logger }), ...common });
}

/** The event log of this installation (`<dataDir>/events`), or null when `eventLog.enabled` is off. */
export async function openEventLog({ config, logger = silentLogger }: { config: Pick<CouncilConfig, "dataDir" | "eventLog">; logger?: Logger }): Promise<EventLog | null> {
  if (!config.eventLog.enabled) return null;
  return EventLog.create({ dir: dataPaths(config).events, retentionDays: config.eventLog.retentionDays, logger });
}

export interface OpenMemoryOptions extends Omit<OpenFromConfigOptions, "config"> {
  config: Pick<CouncilConfig, "dataDir" | "memory">;
  /** @default the built-in registry ({@link memoryStores}) */
  registry?: Pick<BackendRegistry<MemoryStoreBackend>, "get">;
}

/**
 * The turn memory of this installation: the store `memory.store` (COUNCIL_STORE) names, `sqlite` by default
 * (SQLite plus a FAISS index cache in `<dataDir>/data/memory`). Unknown name: BACKEND_UNKNOWN listing the registered ones.
 */
export async function openMemory({ config, embeddings, logger = silentLogger, metrics, registry = memoryStores }: OpenMemoryOptions): Promise<MemoryStore> {
  return registry.get(config.memory.store).create(config, { embeddings, logger, ...(metrics ? { metrics } : {}) });
}

/**
 * The knowledge base, with `kb.dir` and `kb.extraDirs` (COUNCIL_KB_DIR, COUNCIL_KB_EXTRA_DIRS) indexed
 * (unchanged files are skipped by hash, so a restart is cheap). Folders indexed earlier with
 * `council kb index` stay searchable.
 */
export async function openKnowledgeBase({
  config,
  embeddings,
  logger = silentLogger,
  indexConfigured = true,
}: OpenFromConfigOptions & { indexConfigured?: boolean }): Promise<{ kb: MarkdownKnowledgeBase; reports: KbIndexReport[] }> {
  const ranker = passageRankers.get(config.kb.ranker).create(config, {});
  const kb = await MarkdownKnowledgeBase.create({ storePath: memoryPaths(config).kbStore, embeddings, logger, titleBoost: config.kb.titleBoost, ranker });
  const reports: KbIndexReport[] = [];
  if (!indexConfigured) return { kb, reports };
  try {
    for (const [key, dir] of [["kb.dir", config.kb.dir] as const, ...config.kb.extraDirs.map((extra) => ["kb.extraDirs", extra] as const)]) {
      try {
        reports.push(await kb.index(dir));
      } catch (error) {
        throw new CouncilError("CONFIG_INVALID", `Invalid config key "${key}": ${(error as Error).message}`, { cause: error, details: { key } });
      }
    }
  } catch (error) {
    await kb.dispose();
    throw error;
  }
  return { kb, reports };
}
