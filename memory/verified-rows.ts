import type { VerifiedEntry, VerifiedSource, VerifiedStatus } from "./verified-memory.js";

/** A `verified` row, generic in how the store keeps the JSON cells (SQLite: text, Postgres: jsonb). */
export interface VerifiedRowOf<Json> {
  id: string;
  question: string;
  answer: string;
  source: VerifiedSource;
  run_id: string;
  vote_score: number;
  ballots: Json;
  release: string;
  status: VerifiedStatus;
  trace_ids: Json;
  note: string | null;
  created_at: number;
  updated_at: number;
}

/** A decoded row as an entry. */
export function entryFromCells(row: VerifiedRowOf<unknown>): VerifiedEntry {
  return {
    id: row.id,
    question: row.question,
    answer: row.answer,
    source: row.source,
    runId: row.run_id,
    voteScore: row.vote_score,
    ballots: row.ballots as VerifiedEntry["ballots"],
    release: row.release,
    status: row.status,
    traceIds: row.trace_ids as string[],
    note: row.note,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** An entry to write: the validated input with its id. */
export type VerifiedWrite = Omit<VerifiedEntry, "note" | "createdAt" | "updatedAt" | "status"> & { status: "canary" | "active" };

/**
 * Where verified entries are stored: VerifiedMemory keeps the cache, the search and the event log, and asks this
 * port for rows. SQLite (`verified-sqlite.ts`) and Postgres (`verified-postgres.ts`) implement it.
 */
export interface VerifiedRows {
  /** Changes whenever any process changed the rows (VerifiedMemory reloads when it does). */
  version(): Promise<string>;
  all(): Promise<VerifiedEntry[]>;
  /** Inserts, or re-verifies in place (note cleared), in one transaction. */
  upsert(entries: readonly VerifiedWrite[], at: number): Promise<void>;
  markServed(served: { traceId: string; entryId: string; at: number }): Promise<void>;
  servedBy(traceId: string): Promise<string | undefined>;
  /** @returns how many rows changed */
  demote(change: { id: string; note: string; at: number }): Promise<number>;
  /** Moves the release's entries whose status is in `from` to `to`. @returns how many rows changed */
  setStatus(change: { release: string; to: VerifiedStatus; from: readonly VerifiedStatus[]; note: string | null; at: number }): Promise<number>;
  /** Deletes these entries and the served-by rows of these turns, in one transaction. */
  erase(change: { ids: readonly string[]; traceIds: readonly string[] }): Promise<void>;
  close(): Promise<void>;
}
