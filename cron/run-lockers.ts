import { z } from "zod";
import { BackendRegistry, defineBackend, type Backend, type CouncilConfig, type Logger } from "../core/index.js";
import { nightlyLockPath } from "./lock-path.js";
import { acquirePostgresRunLock } from "./postgres-run-lock.js";
import { acquireRunLock, type RunLock } from "./run-lock.js";

/** The nightly run lock as a port: the improvement service, `nightly --once` and `deploy` take it through this. */
export interface RunLocker {
  /** Where the lock lives, for messages: a file, or a Postgres advisory lock. */
  readonly where: string;
  /** Takes the lock or throws RUN_LOCKED naming the holder. */
  acquire(options?: { purpose?: string }): Promise<RunLock>;
}

export interface RunLockerCapabilities {
  /** Replicas on different hosts (each with its own data dir) exclude each other. */
  sharedAcrossReplicas: boolean;
}

export type RunLockerBackend = Backend<{ logger: Logger }, RunLocker, RunLockerCapabilities>;

/** `file`: `<dataDir>/data/runs/nightly.lock` (pid, host, start, TTL); one host, or a data dir every replica shares. */
export const fileRunLocker: RunLockerBackend = defineBackend({
  name: "file",
  description: "lock file <dataDir>/data/runs/nightly.lock with pid, host, start and TTL (one data dir)",
  configSchema: z.object({ dataDir: z.string(), improve: z.object({ lockTtlSeconds: z.number() }) }),
  capabilities: { sharedAcrossReplicas: false },
  open: (config, { logger }) => {
    const path = nightlyLockPath(config);
    return { where: path, acquire: ({ purpose } = {}) => acquireRunLock({ path, ttlSeconds: config.improve.lockTtlSeconds, logger, ...(purpose ? { purpose } : {}) }) };
  },
});

/** `postgres`: a session advisory lock in the database at COUNCIL_DATABASE_URL, freed when its holder's connection dies. */
export const postgresRunLocker: RunLockerBackend = defineBackend({
  name: "postgres",
  description: "Postgres session advisory lock at COUNCIL_DATABASE_URL, freed when the holder's connection closes (every replica)",
  configSchema: z.object({ memory: z.object({ databaseUrl: z.string().regex(/^postgres(ql)?:\/\//, "a postgres:// URL") }), improve: z.object({ lockTtlSeconds: z.number() }) }),
  capabilities: { sharedAcrossReplicas: true },
  open: ({ memory, improve }, { logger }) => ({
    where: "Postgres advisory lock",
    acquire: ({ purpose } = {}) => acquirePostgresRunLock({ url: memory.databaseUrl, ttlSeconds: improve.lockTtlSeconds, logger, ...(purpose ? { purpose } : {}) }),
  }),
});

/**
 * Run locks by name. The memory store (`memory.store`, COUNCIL_STORE) picks: a store that can hold the lock
 * registers a locker under its own name (`postgres`); every other store uses the `file` lock.
 */
export const runLockers = new BackendRegistry<RunLockerBackend>({ kind: "run lock", configKey: "memory.store" }).register(fileRunLocker).register(postgresRunLocker);

/** The run lock this config uses (see {@link runLockers}). */
export function openRunLocker({ config, logger }: { config: CouncilConfig; logger: Logger }): RunLocker {
  const name = runLockers.has(config.memory.store) ? config.memory.store : "file";
  return runLockers.get(name).create(config, { logger });
}
