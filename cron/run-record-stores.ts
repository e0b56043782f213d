import { z } from "zod";
import { BackendRegistry, dataPaths, defineBackend, type Backend, type CouncilConfig, type Logger } from "../core/index.js";
import { FileRunRecords } from "./file-run-records.js";
import { PostgresRunRecords } from "./postgres-run-records.js";
import type { RunRecords } from "./run-records.js";

export interface RunRecordCapabilities {
  /** Replicas on different hosts (each with its own data dir) see the same runs. */
  sharedAcrossReplicas: boolean;
}

export type RunRecordBackend = Backend<{ logger: Logger }, RunRecords, RunRecordCapabilities>;

/** `file`: `<dataDir>/data/runs/<runId>/record.json` beside the run's summary.json and report.md (one data dir). */
export const fileRunRecordStore: RunRecordBackend = defineBackend({
  name: "file",
  description: "record.json, summary.json and report.md in <dataDir>/data/runs/<runId>/ (one data dir)",
  configSchema: z.object({ dataDir: z.string() }),
  capabilities: { sharedAcrossReplicas: false },
  open: (config) => new FileRunRecords({ runsDir: dataPaths(config).runs }),
});

/** `postgres`: table council_runs in the database at COUNCIL_DATABASE_URL (every replica). */
export const postgresRunRecordStore: RunRecordBackend = defineBackend({
  name: "postgres",
  description: "table council_runs in Postgres at COUNCIL_DATABASE_URL, shared by every replica (migration 12)",
  configSchema: z.object({ memory: z.object({ databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL") }) }),
  capabilities: { sharedAcrossReplicas: true },
  open: ({ memory }, { logger }) => new PostgresRunRecords({ url: memory.databaseUrl, logger }),
});

/**
 * Run record stores by name. The memory store (`memory.store`, COUNCIL_STORE) picks: a store that can hold the
 * records registers one under its own name (`postgres`); every other store uses the `file` records.
 */
export const runRecordStores = new BackendRegistry<RunRecordBackend>({ kind: "run records", configKey: "memory.store" }).register(fileRunRecordStore).register(postgresRunRecordStore);

/** The run records this config uses (see {@link runRecordStores}); the caller disposes them. */
export function openRunRecords({ config, logger }: { config: CouncilConfig; logger: Logger }): RunRecords {
  const name = runRecordStores.has(config.memory.store) ? config.memory.store : "file";
  return runRecordStores.get(name).create(config, { logger });
}
