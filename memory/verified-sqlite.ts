import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { CouncilError } from "../core/index.js";
import { entryFromCells, type VerifiedRowOf, type VerifiedRows } from "./verified-rows.js";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS verified (
  id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, source TEXT NOT NULL, run_id TEXT NOT NULL,
  vote_score REAL NOT NULL, ballots TEXT NOT NULL, release TEXT NOT NULL, status TEXT NOT NULL, trace_ids TEXT NOT NULL,
  note TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS verified_release ON verified (release);
CREATE TABLE IF NOT EXISTS served (trace_id TEXT PRIMARY KEY, entry_id TEXT NOT NULL, at INTEGER NOT NULL);
`;

/**
 * Verified entries in one SQLite file (WAL, so the nightly process and the server share it); `version` is
 * `PRAGMA data_version`, which changes when another connection wrote.
 */
export function openSqliteVerifiedRows(path: string): VerifiedRows {
  let db: Database.Database | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    db = new Database(path);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.pragma("busy_timeout = 5000");
    db.exec(SCHEMA);
  } catch (cause) {
    db?.close();
    throw new CouncilError("MEMORY_CORRUPT", `Verified memory ${path} cannot be opened: ${(cause as Error).message}`, { cause });
  }
  const sqlite = db;
  let writes = 0;
  return {
    // data_version does not change for this connection's own writes: count those here.
    version: async () => `${sqlite.pragma("data_version", { simple: true }) as number}.${writes}`,
    all: async () => (sqlite.prepare("SELECT * FROM verified").all() as VerifiedRowOf<string>[]).map((row) => entryFromCells({ ...row, ballots: JSON.parse(row.ballots), trace_ids: JSON.parse(row.trace_ids) })),
    async upsert(entries, at) {
      const upsert = sqlite.prepare(
        `INSERT INTO verified (id, question, answer, source, run_id, vote_score, ballots, release, status, trace_ids, note, created_at, updated_at)
         VALUES (@id, @question, @answer, @source, @run_id, @vote_score, @ballots, @release, @status, @trace_ids, NULL, @at, @at)
         ON CONFLICT(id) DO UPDATE SET source = excluded.source, run_id = excluded.run_id, vote_score = excluded.vote_score, ballots = excluded.ballots,
           release = excluded.release, status = excluded.status, trace_ids = excluded.trace_ids, note = NULL, updated_at = excluded.updated_at`,
      );
      sqlite.transaction(() => {
        for (const entry of entries) {
          upsert.run({ id: entry.id, question: entry.question, answer: entry.answer, source: entry.source, run_id: entry.runId, vote_score: entry.voteScore, ballots: JSON.stringify(entry.ballots), release: entry.release, status: entry.status, trace_ids: JSON.stringify(entry.traceIds), at });
        }
      })();
      writes++;
    },
    async markServed({ traceId, entryId, at }) {
      sqlite.prepare("INSERT OR REPLACE INTO served (trace_id, entry_id, at) VALUES (?, ?, ?)").run(traceId, entryId, at);
    },
    servedBy: async (traceId) => (sqlite.prepare("SELECT entry_id FROM served WHERE trace_id = ?").get(traceId) as { entry_id: string } | undefined)?.entry_id,
    async demote({ id, note, at }) {
      writes++;
      return sqlite.prepare("UPDATE verified SET status = 'demoted', note = ?, updated_at = ? WHERE id = ?").run(note, at, id).changes;
    },
    async setStatus({ release, to, from, note, at }) {
      writes++;
      return sqlite.prepare(`UPDATE verified SET status = ?, note = ?, updated_at = ? WHERE release = ? AND status IN (${from.map(() => "?").join(", ")})`).run(to, note, at, release, ...from).changes;
    },
    async erase({ ids, traceIds }) {
      sqlite.transaction(() => {
        for (const id of ids) sqlite.prepare("DELETE FROM verified WHERE id = ?").run(id);
        for (const id of traceIds) sqlite.prepare("DELETE FROM served WHERE trace_id = ?").run(id);
      })();
      writes++;
    },
    close: async () => void sqlite.close(),
  };
}
