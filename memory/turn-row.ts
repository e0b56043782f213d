import type { CouncilMetrics } from "../core/index.js";
import { CouncilError } from "../core/index.js";
import { matchesFilter, turnRecordSchema } from "./turn-schema.js";
import type { MemoryHit, MemorySearchFilter, TurnRecord } from "./types.js";

// What the turn stores share: the turn as a table row, its mapping both ways, the exact search over cached vectors
// (InMemoryStore, PostgresMemory's replica cache) and the entry-count gauge.

/**
 * A turn as a table row (snake_case columns), generic in how a store keeps the JSON cells (`reasons`, `feedback`)
 * and the flag: SQLite keeps JSON text and 0/1, Postgres jsonb and boolean.
 */
export interface TurnRowOf<Json, Flag> {
  trace_id: string;
  session_id: string;
  user_id: string | null;
  question: string;
  answer: string;
  route: string;
  model: string;
  adapter: string | null;
  score: number;
  category: string | null;
  reasons: Json;
  success: Flag;
  feedback: Json | null;
  latency_ms: number;
  tokens: number;
  created_at: number;
  updated_at: number;
}

/** A row whose cells the store has decoded (JSON parsed, flag a boolean). */
export type TurnCells = TurnRowOf<unknown, boolean>;

/** The row's cells as a turn, checked against the turn schema (a row that does not match is MEMORY_CORRUPT). */
export function turnFromCells(row: TurnCells): TurnRecord {
  const parsed = turnRecordSchema.safeParse({
    traceId: row.trace_id,
    sessionId: row.session_id,
    userId: row.user_id,
    question: row.question,
    answer: row.answer,
    route: row.route,
    model: row.model,
    adapter: row.adapter,
    score: row.score,
    category: row.category,
    reasons: row.reasons,
    success: row.success,
    feedback: row.feedback,
    latencyMs: row.latency_ms,
    tokens: row.tokens,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  });
  if (!parsed.success) throw new CouncilError("MEMORY_CORRUPT", `Stored turn ${row.trace_id} does not match the schema: ${parsed.error.issues[0]?.message}`);
  return parsed.data as TurnRecord;
}

/** A turn as row cells; the store encodes `reasons`, `success` and `feedback` its own way. */
export function turnToCells(turn: TurnRecord): TurnCells {
  return {
    trace_id: turn.traceId,
    session_id: turn.sessionId,
    user_id: turn.userId,
    question: turn.question,
    answer: turn.answer,
    route: turn.route,
    model: turn.model,
    adapter: turn.adapter,
    score: turn.score,
    category: turn.category,
    reasons: turn.reasons,
    success: turn.success,
    feedback: turn.feedback,
    latency_ms: turn.latencyMs,
    tokens: turn.tokens,
    created_at: turn.createdAt,
    updated_at: turn.updatedAt,
  };
}

/** A turn held in memory with its vector; `seq` is insertion order (ties in search go to the older turn). */
export interface VectorEntry {
  turn: TurnRecord;
  vector: Float32Array;
  seq: number;
}

/** Exact inner-product search over unit vectors: the `k` best entries matching `filter`, older first on ties. */
export function exactSearch(entries: Iterable<VectorEntry>, vector: Float32Array, { k, filter }: { k: number; filter: MemorySearchFilter }): MemoryHit[] {
  const hits: Array<{ entry: VectorEntry; score: number }> = [];
  for (const entry of entries) {
    if (!matchesFilter(entry.turn, filter)) continue;
    let score = 0;
    for (let i = 0; i < vector.length; i++) score += vector[i]! * entry.vector[i]!;
    hits.push({ entry, score: Math.fround(score) });
  }
  hits.sort((a, b) => b.score - a.score || a.entry.seq - b.entry.seq);
  return hits.slice(0, k).map(({ entry, score }) => ({ record: structuredClone(entry.turn), score }));
}

/** Counts of turns by their success flag. */
export function countTurns(entries: Iterable<{ turn: TurnRecord }>): { total: number; success: number; failure: number } {
  let total = 0;
  let success = 0;
  for (const { turn } of entries) {
    total++;
    if (turn.success) success++;
  }
  return { total, success, failure: total - success };
}

/** Sets `council_memory_entries` from a store's counts (no-op without metrics). */
export function publishCounts(metrics: Pick<CouncilMetrics, "memoryEntries"> | undefined, { success, failure }: { success: number; failure: number }): void {
  if (!metrics) return;
  metrics.memoryEntries.set({ success: "true" }, success);
  metrics.memoryEntries.set({ success: "false" }, failure);
}
