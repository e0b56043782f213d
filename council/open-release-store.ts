import { CouncilError, silentLogger, type CouncilConfig, type Logger } from "../core/index.js";
import { FileReleaseStore, PostgresReleaseStore, type AdapterRegistry, type ReleaseStore } from "../deploy/index.js";
import { applyMigrations } from "../memory/index.js";

/**
 * The adapter release record for this config: with `COUNCIL_STORE=postgres` it lives in Postgres at
 * `COUNCIL_DATABASE_URL` next to the turns (migrations applied here too, so `council rollback` works on a fresh
 * database), shared by every replica; otherwise it is `loras/` under the data dir. With Postgres the version folders are shared too (migration 11): a
 * replica materialises the version the record names when its data dir lacks it; folders above
 * `memory.sharedAdapterMaxBytes` (COUNCIL_SHARED_ADAPTER_MAX_BYTES) are refused with ADAPTER_TOO_LARGE.
 */
export async function openReleaseStore({ config, registry, logger = silentLogger }: { config: Pick<CouncilConfig, "memory">; registry: AdapterRegistry; logger?: Logger }): Promise<ReleaseStore> {
  if (config.memory.store !== "postgres") return new FileReleaseStore({ registry });
  const url = config.memory.databaseUrl;
  if (url === undefined) throw new CouncilError("CONFIG_INVALID", "COUNCIL_STORE=postgres needs COUNCIL_DATABASE_URL (postgres://user:password@host:5432/council).", { details: { key: "memory.databaseUrl" } });
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  try {
    const client = await pool.connect().catch((cause: unknown) => {
      throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot connect to Postgres for the adapter release: ${(cause as Error).message}. Check COUNCIL_DATABASE_URL.`, { cause });
    });
    try {
      const applied = await applyMigrations(client);
      if (applied.length > 0) logger.info({ applied }, "schema migrated");
    } finally {
      client.release();
    }
  } finally {
    await pool.end();
  }
  return PostgresReleaseStore.create({ url, verify: (version) => registry.verify(version), logger, shareFiles: { paths: registry.paths, maxBytes: config.memory.sharedAdapterMaxBytes } });
}
