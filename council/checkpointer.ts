import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { CouncilError, dataPaths, type CouncilConfig } from "../core/index.js";
import { CHECKPOINT_SETUP_LOCK, redactDatabaseUrl } from "../memory/index.js";

export interface OpenedCheckpointer {
  /** Where the nightly graph's checkpoints live, for logs. */
  where: string;
  saver: BaseCheckpointSaver;
  dispose(): Promise<void>;
}

/**
 * The nightly graph's checkpointer, chosen by the memory store (COUNCIL_STORE): with `postgres` the checkpoints live
 * in the database at COUNCIL_DATABASE_URL (tables made by `@langchain/langgraph-checkpoint-postgres`'s own
 * versioned setup), so a night interrupted on one replica resumes on whichever replica takes the lock next;
 * otherwise SQLite at `<dataDir>/data/checkpoints/improve.sqlite`.
 */
export async function openCheckpointer({ config }: { config: Pick<CouncilConfig, "dataDir" | "memory"> }): Promise<OpenedCheckpointer> {
  if (config.memory.store === "postgres") {
    const url = config.memory.databaseUrl;
    if (url === undefined) throw new CouncilError("CONFIG_INVALID", "COUNCIL_STORE=postgres keeps the nightly checkpoints in Postgres: set COUNCIL_DATABASE_URL.", { details: { key: "memory.databaseUrl", envKey: "COUNCIL_DATABASE_URL" } });
    const saver = PostgresSaver.fromConnString(url);
    try {
      await setUpOnce(url, () => saver.setup());
    } catch (error) {
      await saver.end().catch(() => undefined);
      throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot set up the nightly checkpoints in Postgres at ${redactDatabaseUrl(url)}: ${(error as Error).message}. Check COUNCIL_DATABASE_URL.`, { cause: error });
    }
    return { where: redactDatabaseUrl(url), saver, dispose: () => saver.end() };
  }
  return sqliteCheckpointer(config);
}

/** SQLite checkpoints at `<dataDir>/data/checkpoints/improve.sqlite` (the embedded default). */
export function sqliteCheckpointer(config: Pick<CouncilConfig, "dataDir">): OpenedCheckpointer {
  const dir = dataPaths(config).checkpoints;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "improve.sqlite");
  const saver = SqliteSaver.fromConnString(path);
  return { where: path, saver, dispose: async () => void saver.db.close() };
}

/** Runs `setup` under a session advisory lock, so replicas starting together do not create the same tables at once. */
async function setUpOnce(url: string, setup: () => Promise<void>): Promise<void> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [CHECKPOINT_SETUP_LOCK]);
    await setup();
  } finally {
    await client.end(); // frees the lock
  }
}
