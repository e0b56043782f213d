import type { Pool, PoolClient } from "pg";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { applyMigrations } from "./postgres-migrations.js";
import { redactDatabaseUrl } from "./postgres-memory.js";
import { entryFromCells, type VerifiedRowOf, type VerifiedRows } from "./verified-rows.js";

const COLUMNS = "id, question, answer, source, run_id, vote_score, ballots, release, status, trace_ids, note, created_at, updated_at";
const NEXT = "nextval('council_verified_changes')";

/**
 * Verified entries in Postgres (`council_verified`), shared by every replica; migrations are applied on open.
 * `version` is max(change_seq) and the row count: any insert, update or delete on any replica changes it.
 */
export async function openPostgresVerifiedRows({ url, logger = silentLogger, maxConnections = 2 }: { url: string; logger?: Logger; maxConnections?: number }): Promise<VerifiedRows> {
  const { default: pg } = await import("pg");
  const pool: Pool = new pg.Pool({ connectionString: url, max: maxConnections });
  pool.on("error", (error) => logger.warn({ err: error }, "idle Postgres connection failed"));
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot connect to Postgres at ${redactDatabaseUrl(url)} for verified memory: ${(error as Error).message}. Check COUNCIL_DATABASE_URL.`, { cause: error });
    });
    try {
      await applyMigrations(client);
    } finally {
      client.release();
    }
  } catch (error) {
    await pool.end();
    throw error;
  }
  const transaction = async <T>(body: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      try {
        const result = await body(client);
        await client.query("COMMIT");
        return result;
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    } finally {
      client.release();
    }
  };
  return {
    async version() {
      const { rows } = await pool.query<{ version: string }>("SELECT coalesce(max(change_seq), 0)::text || '.' || count(*)::text AS version FROM council_verified");
      return rows[0]!.version;
    },
    all: async () => (await pool.query<VerifiedRowOf<unknown>>(`SELECT ${COLUMNS} FROM council_verified`)).rows.map(entryFromCells),
    upsert: (entries, at) =>
      transaction(async (client) => {
        for (const entry of entries) {
          await client.query(
            `INSERT INTO council_verified (${COLUMNS}, change_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $11, ${NEXT})
             ON CONFLICT (id) DO UPDATE SET source = excluded.source, run_id = excluded.run_id, vote_score = excluded.vote_score, ballots = excluded.ballots,
               release = excluded.release, status = excluded.status, trace_ids = excluded.trace_ids, note = NULL, updated_at = excluded.updated_at, change_seq = ${NEXT}`,
            [entry.id, entry.question, entry.answer, entry.source, entry.runId, entry.voteScore, JSON.stringify(entry.ballots), entry.release, entry.status, JSON.stringify(entry.traceIds), at],
          );
        }
      }),
    async markServed({ traceId, entryId, at }) {
      await pool.query("INSERT INTO council_verified_served (trace_id, entry_id, at) VALUES ($1, $2, $3) ON CONFLICT (trace_id) DO UPDATE SET entry_id = excluded.entry_id, at = excluded.at", [traceId, entryId, at]);
    },
    servedBy: async (traceId) => (await pool.query<{ entry_id: string }>("SELECT entry_id FROM council_verified_served WHERE trace_id = $1", [traceId])).rows[0]?.entry_id,
    demote: async ({ id, note, at }) => (await pool.query(`UPDATE council_verified SET status = 'demoted', note = $2, updated_at = $3, change_seq = ${NEXT} WHERE id = $1`, [id, note, at])).rowCount ?? 0,
    setStatus: async ({ release, to, from, note, at }) =>
      (await pool.query(`UPDATE council_verified SET status = $2, note = $3, updated_at = $4, change_seq = ${NEXT} WHERE release = $1 AND status = ANY($5::text[])`, [release, to, note, at, [...from]])).rowCount ?? 0,
    erase: ({ ids, traceIds }) =>
      transaction(async (client) => {
        await client.query("DELETE FROM council_verified WHERE id = ANY($1::text[])", [[...ids]]);
        await client.query("DELETE FROM council_verified_served WHERE trace_id = ANY($1::text[])", [[...traceIds]]);
      }),
    close: () => pool.end(),
  };
}
