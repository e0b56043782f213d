import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CouncilError, type Logger } from "../core/index.js";
import { turnFromCells, turnToCells, type TurnRowOf } from "./turn-row.js";
import type { MemorySearchFilter, TurnRecord } from "./types.js";

// FaissMemory's SQLite side: the schema, opening the database durably, the meta rows, turn <-> row mapping and
// search-filter SQL. The FAISS side is faiss-index.ts.

/** One row of the `turns` table: JSON text cells, a 0/1 flag. */
export type TurnRow = TurnRowOf<string, number> & { id: number };

export const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL UNIQUE,
  session_id TEXT NOT NULL,
  user_id TEXT,
  question TEXT NOT NULL,
  answer TEXT NOT NULL,
  route TEXT NOT NULL,
  model TEXT NOT NULL,
  adapter TEXT,
  score REAL NOT NULL,
  category TEXT,
  reasons TEXT NOT NULL,
  success INTEGER NOT NULL,
  feedback TEXT,
  latency_ms REAL NOT NULL,
  tokens INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  vector BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS turns_success_created ON turns (success, created_at);
CREATE INDEX IF NOT EXISTS turns_created ON turns (created_at);
CREATE INDEX IF NOT EXISTS turns_session ON turns (session_id);
CREATE INDEX IF NOT EXISTS turns_adapter ON turns (adapter);
CREATE INDEX IF NOT EXISTS turns_route ON turns (route);
`;

export const COLUMNS = "id, trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at";

export function openDatabase(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 5000");
    db.exec(SCHEMA);
    return db;
  } catch (cause) {
    db?.close();
    throw new CouncilError("MEMORY_CORRUPT", `Memory database ${path} cannot be opened: ${(cause as Error).message}`, { cause });
  }
}

/** Creates or checks the meta rows; re-embeds every turn when the embedding model changed. */
export function prepareMeta(db: Database.Database, { fingerprint, dir, logger }: { fingerprint: string; dir: string; logger: Logger }): string {
  const read = db.prepare("SELECT value FROM meta WHERE key = ?");
  const write = db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)");
  let uuid = (read.get("uuid") as { value: string } | undefined)?.value;
  if (uuid === undefined) {
    uuid = randomUUID();
    db.transaction(() => {
      write.run("uuid", uuid);
      write.run("embeddings", fingerprint);
    })();
  }
  const stored = (read.get("embeddings") as { value: string } | undefined)?.value;
  if (stored !== fingerprint) {
    const rows = (db.prepare("SELECT COUNT(*) AS n FROM turns").get() as { n: number }).n;
    if (rows > 0) {
      throw new CouncilError(
        "CONFIG_INVALID",
        `Memory in ${dir} holds ${rows} turns embedded with ${stored}, but ${fingerprint} is configured: use the same embeddings or a new memory folder`,
      );
    }
    write.run("embeddings", fingerprint);
    rmSync(join(dir, "index.meta.json"), { force: true });
    logger.info({ fingerprint }, "memory: embeddings set");
  }
  return uuid;
}

export function toRow(turn: TurnRecord, vector: Float32Array) {
  return {
    ...turnToCells(turn),
    reasons: JSON.stringify(turn.reasons),
    success: turn.success ? 1 : 0,
    feedback: turn.feedback ? JSON.stringify(turn.feedback) : null,
    vector: Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength),
  };
}

export function fromRow(row: TurnRow): TurnRecord {
  let reasons: unknown;
  let feedback: unknown;
  try {
    reasons = JSON.parse(row.reasons);
    feedback = row.feedback === null ? null : JSON.parse(row.feedback);
  } catch (cause) {
    throw new CouncilError("MEMORY_CORRUPT", `Stored turn ${row.trace_id} has unreadable JSON`, { cause });
  }
  return turnFromCells({ ...row, reasons, feedback, success: row.success === 1 });
}

/**
 * SQL for a search filter. `hydrate` form prefixes columns with unary `+` so SQLite looks rows up by id
 * (a handful of candidates) instead of scanning a filter index; the scan form lets it use those indexes.
 */
export function filterSql(filter: MemorySearchFilter): { sql: string; hydrateSql: string; params: unknown[] } {
  const clauses: Array<[string, string]> = [];
  const params: unknown[] = [];
  const add = (column: string, test: string, value?: unknown) => {
    clauses.push([`${column} ${test}`, `+${column} ${test}`]);
    if (value !== undefined) params.push(value);
  };
  if (filter.success !== undefined) add("success", "= ?", filter.success ? 1 : 0);
  if (filter.route !== undefined) add("route", "= ?", filter.route);
  if (filter.adapter !== undefined) {
    if (filter.adapter === null) add("adapter", "IS NULL");
    else add("adapter", "= ?", filter.adapter);
  }
  if (filter.sessionId !== undefined) add("session_id", "= ?", filter.sessionId);
  return { sql: clauses.map(([plain]) => plain).join(" AND "), hydrateSql: clauses.map(([, hydrate]) => hydrate).join(" AND "), params };
}
