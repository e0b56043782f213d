import { randomUUID } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { CouncilError } from "../core/index.js";

const KEPT_COLUMNS = "trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at, vector";

/**
 * Deletes a user's turns from a FaissMemory folder (offline: no process may hold it open). Rows are copied
 * back densely (FAISS labels are row ids), the file is vacuumed so the text is gone from disk too, and the
 * index cache is removed: the next open rebuilds it from the stored vectors (no re-embedding).
 * Returns the trace ids erased.
 */
export function eraseUserTurns({ dir, userId }: { dir: string; userId: string }): string[] {
  const path = join(dir, "memory.sqlite");
  if (!existsSync(path)) return [];
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma("busy_timeout = 5000");
  } catch (cause) {
    throw new CouncilError("MEMORY_CORRUPT", `Memory database ${path} cannot be opened: ${(cause as Error).message}`, { cause });
  }
  try {
    const traces = (db.prepare("SELECT trace_id FROM turns WHERE user_id = ? ORDER BY id").all(userId) as Array<{ trace_id: string }>).map((row) => row.trace_id);
    if (traces.length === 0) return [];
    db.transaction(() => {
      db.prepare(`CREATE TEMP TABLE keep AS SELECT ${KEPT_COLUMNS} FROM turns WHERE user_id IS NOT ? ORDER BY id`).run(userId);
      db.exec("DELETE FROM turns");
      db.exec(`INSERT INTO turns (${KEPT_COLUMNS}) SELECT ${KEPT_COLUMNS} FROM temp.keep ORDER BY rowid`);
      db.exec("DROP TABLE temp.keep");
      // A new database identity: the saved FAISS index no longer matches and is rebuilt from the rows.
      db.prepare("UPDATE meta SET value = ? WHERE key = 'uuid'").run(randomUUID());
    })();
    db.exec("VACUUM");
    db.pragma("wal_checkpoint(TRUNCATE)");
    return traces;
  } finally {
    db.close();
    rmSync(join(dir, "index.faiss"), { force: true });
    rmSync(join(dir, "index.meta.json"), { force: true });
  }
}
