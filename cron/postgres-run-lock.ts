import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import type { Client } from "pg";
import { CouncilError, safeParseJson, silentLogger, type Logger } from "../core/index.js";
import { applyMigrations, redactDatabaseUrl, RUN_LOCK } from "../memory/index.js";
import { lockInfoSchema, type LockInfo, type RunLock } from "./run-lock.js";

export interface AcquirePostgresRunLockOptions {
  /** `postgres://…` (COUNCIL_DATABASE_URL): the database every replica shares. */
  url: string;
  /** Recorded with the holder's info for operators; the lock itself lasts exactly as long as its connection. */
  ttlSeconds: number;
  purpose?: string;
  /** Advisory lock key. @default RUN_LOCK (one nightly run per database) */
  key?: number;
  logger?: Logger;
  now?: () => Date;
  pid?: number;
  host?: string;
}

/** The holder as Postgres sees it: the backend holding the advisory lock, and the info row it wrote (null until written). */
interface HolderRow {
  backend_pid: number;
  info: unknown;
  client_addr: string | null;
  backend_start: Date | null;
}

const HOLDER_SQL = `
  SELECT l.pid AS backend_pid, r.info, a.client_addr::text AS client_addr, a.backend_start
  FROM pg_locks l
  LEFT JOIN council_run_locks r ON r.lock_key = $1 AND r.backend_pid = l.pid
  LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
    AND l.classid::bigint = ($1::bigint >> 32) AND l.objid::bigint = ($1::bigint & 4294967295)`;

/**
 * Takes the nightly run lock in Postgres, shared by every replica, or throws RUN_LOCKED naming the holder.
 * The lock is a session-level `pg_advisory_lock` on a connection of its own: it is held while that connection
 * lives, so a holder that exits, crashes or is killed -9 frees it when the server sees the connection close
 * (no TTL, no stale-lock breaking). The holder's pid, host, start and purpose go to `council_run_locks`, keyed by
 * the backend pid, so a row left by a dead holder never describes the live one.
 */
export async function acquirePostgresRunLock({ url, ttlSeconds, purpose, key = RUN_LOCK, logger = silentLogger, now = () => new Date(), pid = process.pid, host = osHostname() }: AcquirePostgresRunLockOptions): Promise<RunLock> {
  const { default: pg } = await import("pg");
  const where = `Postgres advisory lock ${key} at ${redactDatabaseUrl(url)}`;
  const client: Client = new pg.Client({ connectionString: url, application_name: `council run lock (pid ${pid})`, keepAlive: true });
  client.on("error", (error) => logger.error({ err: error, where }, "the run lock's Postgres connection failed: the lock is gone"));
  await client.connect().catch((error: unknown) => {
    throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot connect to Postgres at ${redactDatabaseUrl(url)} for the run lock: ${(error as Error).message}. Check COUNCIL_DATABASE_URL.`, { cause: error });
  });
  try {
    await applyMigrations(client);
    const info: LockInfo = { pid, host, startedAt: now().toISOString(), ttlSeconds, nonce: randomBytes(12).toString("hex"), ...(purpose ? { purpose } : {}) };
    for (let attempt = 0; attempt < 5; attempt++) {
      const { rows } = await client.query<{ locked: boolean }>("SELECT pg_try_advisory_lock($1) AS locked", [key]);
      if (rows[0]?.locked) {
        await client.query(
          `INSERT INTO council_run_locks (lock_key, backend_pid, info) VALUES ($1, pg_backend_pid(), $2)
           ON CONFLICT (lock_key) DO UPDATE SET backend_pid = excluded.backend_pid, info = excluded.info`,
          [key, JSON.stringify(info)],
        );
        logger.info({ where, pid, host }, "run lock acquired");
        return { path: where, info, release: () => release({ client, key, where, logger }) };
      }
      const holder = (await client.query<HolderRow>(HOLDER_SQL, [key])).rows[0];
      if (holder) throw lockedError(where, holder);
      // Released between our try and our look: try again.
    }
    throw new CouncilError("RUN_LOCKED", `Could not take the ${where}: it kept changing hands.`);
  } catch (error) {
    await client.end().catch(() => undefined);
    throw error;
  }
}

async function release({ client, key, where, logger }: { client: Client; key: number; where: string; logger: Logger }): Promise<void> {
  try {
    await client.query("DELETE FROM council_run_locks WHERE lock_key = $1 AND backend_pid = pg_backend_pid()", [key]);
    await client.query("SELECT pg_advisory_unlock($1)", [key]);
  } catch (error) {
    // Closing the connection below frees the lock anyway.
    logger.warn({ err: error, where }, "could not release the run lock explicitly; closing its connection");
  } finally {
    await client.end().catch(() => undefined);
  }
}

function lockedError(where: string, holder: HolderRow): CouncilError {
  const parsed = holder.info === null ? null : safeParseJson(JSON.stringify(holder.info), lockInfoSchema);
  const info = parsed?.success ? parsed.value : null;
  const since = info?.startedAt ?? holder.backend_start?.toISOString() ?? "an unknown time";
  const who = info ? `pid ${info.pid} on ${info.host}` : `Postgres backend ${holder.backend_pid}${holder.client_addr ? ` from ${holder.client_addr}` : ""}`;
  return new CouncilError("RUN_LOCKED", `Another improvement run is in progress (locked by ${who} since ${since}${info?.purpose ? `, ${info.purpose}` : ""}); it is freed when that run ends or its process dies.`, {
    details: { path: where, backendPid: holder.backend_pid, ...(info ? { pid: info.pid, host: info.host, startedAt: info.startedAt } : {}) },
  });
}
