import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import Database from "better-sqlite3";
import { CouncilError, silentLogger, type CouncilMetrics, type Logger } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { embeddingDimensions, embeddingFingerprint } from "./embedding-dimensions.js";
import { FaissIndex, type ApproxOptions, type FaissThread, type IndexStats } from "./faiss-index.js";
import { publishCounts } from "./turn-row.js";
import { COLUMNS, filterSql, fromRow, openDatabase, prepareMeta, toRow, type TurnRow } from "./faiss-memory-sql.js";
import {
  checkVector,
  parseFailureQuery,
  parseQueryText,
  parseSearchOptions,
  parseTraceId,
  parseTurn,
  turnEmbeddingText,
  feedbackUpdate,
  successUpdate,
} from "./turn-schema.js";
import type { Feedback, FailureQuery, MemoryHit, MemorySearchFilter, MemoryStore, TurnRecord } from "./types.js";

export interface FaissMemoryOptions {
  /** Folder holding memory.sqlite (source of truth) and the FAISS index cache. Created if missing. */
  dir: string;
  /** @default new HashEmbeddings({ dimensions }) */
  embeddings?: EmbeddingsInterface;
  /** The embeddings' vector length. @default `embeddings.dimensions`, else measured (384 for the default) */
  dimensions?: number;
  /** @default Date.now */
  now?: () => number;
  /** @default silentLogger */
  logger?: Logger;
  metrics?: Pick<CouncilMetrics, "memoryEntries">;
  /** When search switches from exact (flat) to IVF. */
  approx?: ApproxOptions;
  /** Save the index file after this many new rows (it is also saved on dispose). @default 10_000 */
  saveEvery?: number;
  /** The thread faiss-node runs on: its worker (default) or the event loop (no hop; see {@link FaissThread}). */
  faissThread?: FaissThread;
}

/** Candidates fetched from FAISS per round when a filter is set, and the cap before an exact filtered scan. */
const FILTER_FIRST_FETCH = 64;
const FILTER_MAX_FETCH = 4096;
const SCAN_PAGE = 2048;

/**
 * Memory of past turns: SQLite (better-sqlite3) holds every turn, its flags and its vector; FAISS
 * (faiss-node, in a worker thread) is a rebuildable search cache over those vectors.
 *
 * Why SQLite: one file with real transactions. WAL + synchronous=FULL makes each `record()` durable
 * when its promise resolves (a kill -9 or power loss after that loses nothing; before it, at most that
 * turn), a 👎 is one atomic UPDATE, and the harvester's query "failures between since and until" is an
 * index range scan on (success, created_at) — never a similarity search. Append-only JSONL would need
 * its own index, compaction and torn-line recovery for the same guarantees.
 */
export class FaissMemory implements MemoryStore {
  readonly #db: Database.Database;
  readonly #index: FaissIndex;
  readonly #embeddings: EmbeddingsInterface;
  readonly #dimensions: number;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #metrics: Pick<CouncilMetrics, "memoryEntries"> | undefined;
  readonly #saveEvery: number;
  readonly #statements;
  #counts: { total: number; success: number };
  #unsaved = 0;
  readonly #hydrateStatements = new Map<string, Database.Statement>();
  #disposed = false;

  private constructor(db: Database.Database, index: FaissIndex, options: Required<Pick<FaissMemoryOptions, "embeddings" | "dimensions" | "now" | "logger" | "saveEvery">> & FaissMemoryOptions) {
    this.#db = db;
    this.#index = index;
    this.#embeddings = options.embeddings;
    this.#dimensions = options.dimensions;
    this.#now = options.now;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#saveEvery = options.saveEvery;
    this.#statements = {
      insert: db.prepare(
        `INSERT INTO turns (trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at, vector)
         VALUES (@trace_id, @session_id, @user_id, @question, @answer, @route, @model, @adapter, @score, @category, @reasons, @success, @feedback, @latency_ms, @tokens, @created_at, @updated_at, @vector)`,
      ),
      byTrace: db.prepare(`SELECT ${COLUMNS} FROM turns WHERE trace_id = ?`),
      update: db.prepare("UPDATE turns SET success = @success, feedback = @feedback, updated_at = @updated_at WHERE trace_id = @trace_id"),
      window: db.prepare(`SELECT ${COLUMNS} FROM turns WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?`),
      failures: db.prepare(`SELECT ${COLUMNS} FROM turns WHERE success = 0 AND created_at >= ? AND created_at < ? ORDER BY created_at, id LIMIT ?`),
      maxId: db.prepare("SELECT COALESCE(MAX(id), 0) AS n FROM turns"),
      counts: db.prepare("SELECT COUNT(*) AS total, COALESCE(SUM(success), 0) AS success FROM turns"),
    };
    this.#counts = this.#statements.counts.get() as { total: number; success: number };
  }

  static async create({
    dir,
    dimensions: wanted,
    embeddings = new HashEmbeddings({ dimensions: wanted ?? 384 }),
    now = Date.now,
    logger = silentLogger,
    metrics,
    approx,
    saveEvery = 10_000,
    faissThread,
  }: FaissMemoryOptions): Promise<FaissMemory> {
    const dimensions = wanted ?? (await embeddingDimensions(embeddings));
    if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > 65_536) throw new CouncilError("CONFIG_INVALID", `Memory dimensions must be a positive integer, got ${dimensions}`);
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, constants.W_OK | constants.R_OK);
    } catch (cause) {
      throw new CouncilError("CONFIG_INVALID", `Memory folder ${dir} cannot be created or written: ${(cause as Error).message}`, { cause });
    }
    const dbPath = join(dir, "memory.sqlite");
    const db = openDatabase(dbPath);
    let index: FaissIndex | undefined;
    try {
      const dbUuid = prepareMeta(db, { fingerprint: embeddingFingerprint(embeddings, dimensions), dir, logger });
      index = await FaissIndex.create({ dimensions, indexPath: join(dir, "index.faiss"), metaPath: join(dir, "index.meta.json"), dbPath, dbUuid, approx, logger, ...(faissThread ? { faissThread } : {}) });
      const memory = new FaissMemory(db, index, { dir, dimensions, embeddings, now, logger, metrics, saveEvery });
      memory.#publish();
      return memory;
    } catch (error) {
      await index?.dispose();
      db.close();
      throw error;
    }
  }

  /** Index shape and size (benchmarks, logs). */
  get indexStats(): IndexStats {
    return this.#index.stats;
  }

  /**
   * Builds the index the size calls for (IVF past `approx.threshold`) in a child process while searches
   * continue on the current one, or waits for a build already running. Resolves with the new stats.
   */
  async upgradeIndex(): Promise<IndexStats> {
    this.#alive();
    await this.#index.upgradeInBackground();
    return this.#index.stats;
  }

  async record(turn: TurnRecord): Promise<void> {
    this.#alive();
    const valid = parseTurn(turn);
    const vector = checkVector(await this.#embeddings.embedQuery(turnEmbeddingText(valid)), this.#dimensions);
    await this.recordWithVectors([{ turn: valid, vector }]);
  }

  /**
   * Records many turns in one transaction (imports, benchmarks), with precomputed vectors.
   * All or nothing: a duplicate or invalid item rejects the whole batch.
   */
  async recordWithVectors(items: Array<{ turn: TurnRecord; vector: ArrayLike<number> }>): Promise<void> {
    this.#alive();
    if (items.length === 0) return;
    const rows = items.map(({ turn, vector }) => ({ turn: parseTurn(turn), vector: checkVector(vector, this.#dimensions) }));
    let firstId = 0;
    const insertAll = this.#db.transaction(() => {
      for (const [i, { turn, vector }] of rows.entries()) {
        const info = this.#statements.insert.run(toRow(turn, vector));
        if (i === 0) firstId = Number(info.lastInsertRowid);
      }
    });
    try {
      insertAll();
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") throw new CouncilError("TRACE_DUPLICATE", `A turn in this batch is already recorded (trace ids are unique)`, { cause: error });
      throw new CouncilError("INTERNAL", `Memory write failed: ${(error as Error).message}`, { cause: error });
    }
    this.#counts.total += rows.length;
    this.#counts.success += rows.filter(({ turn }) => turn.success).length;
    this.#publish();
    const packed = new Float32Array(rows.length * this.#dimensions);
    rows.forEach(({ vector }, i) => packed.set(vector, i * this.#dimensions));
    await this.#index.add(firstId - 1, packed);
    this.#unsaved += rows.length;
    if (this.#unsaved >= this.#saveEvery) {
      this.#unsaved = 0;
      this.#index.save().catch((error: unknown) => this.#logger.error({ err: error }, "memory index save failed (it is rebuilt from SQLite on the next start)"));
    }
  }

  async get(traceId: string): Promise<TurnRecord | undefined> {
    this.#alive();
    const row = this.#statements.byTrace.get(parseTraceId(traceId)) as TurnRow | undefined;
    return row ? fromRow(row) : undefined;
  }

  async setFeedback(traceId: string, feedback: Feedback): Promise<TurnRecord> {
    this.#alive();
    return this.#update(traceId, feedbackUpdate(feedback, this.#now()));
  }

  async setSuccess(traceId: string, success: boolean): Promise<TurnRecord> {
    this.#alive();
    return this.#update(traceId, successUpdate(success, this.#now()));
  }

  async failures(query?: FailureQuery): Promise<TurnRecord[]> {
    this.#alive();
    const { since = 0, until = Number.MAX_SAFE_INTEGER, limit = -1 } = parseFailureQuery(query);
    return (this.#statements.failures.all(since, until, limit) as TurnRow[]).map(fromRow);
  }

  async turns(query?: FailureQuery): Promise<TurnRecord[]> {
    this.#alive();
    const { since = 0, until = Number.MAX_SAFE_INTEGER, limit = -1 } = parseFailureQuery(query);
    return (this.#statements.window.all(since, until, limit) as TurnRow[]).map(fromRow);
  }

  async search(query: string, options?: { k?: number; filter?: MemorySearchFilter }): Promise<MemoryHit[]> {
    this.#alive();
    const text = parseQueryText(query);
    const parsed = parseSearchOptions(options);
    const vector = checkVector(await this.#embeddings.embedQuery(text), this.#dimensions);
    return this.searchByVector(vector, parsed);
  }

  /** Search with a precomputed query vector (benchmarks, callers that already embedded the text). */
  async searchByVector(queryVector: ArrayLike<number>, options?: { k?: number; filter?: MemorySearchFilter }): Promise<MemoryHit[]> {
    this.#alive();
    const { k, filter } = parseSearchOptions(options);
    const vector = checkVector(queryVector, this.#dimensions);
    const rows = (this.#statements.maxId.get() as { n: number }).n;
    if (rows > this.#index.stats.rows) await this.#index.catchUp();
    if (rows === 0) return [];
    const where = filterSql(filter);
    if (where.sql === "") {
      const { labels, distances } = await this.#index.search(vector, k);
      return this.#hydrate(labels, distances, where, k);
    }
    for (let fetch = Math.max(FILTER_FIRST_FETCH, k * 8); ; fetch *= 4) {
      const { labels, distances } = await this.#index.search(vector, Math.min(fetch, rows));
      const hits = this.#hydrate(labels, distances, where, k);
      if (hits.length >= k || fetch >= rows) return hits;
      if (fetch >= FILTER_MAX_FETCH) return this.#exactFilteredScan(vector, k, where);
    }
  }

  /**
   * The FAISS index alone (worker round trip, no SQLite hydration): FAISS labels (row id − 1) and scores.
   * For benchmarks that split a search's time between the index, the worker hop and hydration.
   */
  async searchIndex(queryVector: ArrayLike<number>, k: number): Promise<{ labels: number[]; distances: number[] }> {
    this.#alive();
    return this.#index.search(checkVector(queryVector, this.#dimensions), parseSearchOptions({ k }).k);
  }

  counts(): { total: number; success: number; failure: number } {
    return { total: this.#counts.total, success: this.#counts.success, failure: this.#counts.total - this.#counts.success };
  }

  /** Saves the index, stops the worker and closes SQLite. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    try {
      await this.#index.dispose();
    } finally {
      this.#db.close();
    }
  }

  /** The records behind FAISS labels that pass the filter, in label order, at most `limit` (only those are parsed). */
  #hydrate(labels: number[], distances: number[], where: { hydrateSql: string; params: unknown[] }, limit: number): MemoryHit[] {
    if (labels.length === 0) return [];
    const ids = labels.map((label) => label + 1);
    const sql = `SELECT ${COLUMNS} FROM turns WHERE id IN (SELECT value FROM json_each(?))${where.hydrateSql ? ` AND ${where.hydrateSql}` : ""}`;
    let statement = this.#hydrateStatements.get(sql);
    if (!statement) this.#hydrateStatements.set(sql, (statement = this.#db.prepare(sql)));
    const rows = statement.all(JSON.stringify(ids), ...where.params) as TurnRow[];
    const byId = new Map(rows.map((row) => [row.id, row]));
    const hits: MemoryHit[] = [];
    for (let i = 0; i < ids.length && hits.length < limit; i++) {
      const row = byId.get(ids[i]!);
      if (row) hits.push({ record: fromRow(row), score: distances[i]! });
    }
    return hits;
  }

  /** Exact search over the rows a selective filter admits, paged so the event loop keeps turning. */
  async #exactFilteredScan(vector: Float32Array, k: number, where: { sql: string; hydrateSql: string; params: unknown[] }): Promise<MemoryHit[]> {
    const page = this.#db.prepare(`SELECT id, vector FROM turns WHERE ${where.sql} AND id > ? ORDER BY id LIMIT ${SCAN_PAGE}`);
    const best: Array<{ id: number; score: number }> = [];
    const scratch = new Float32Array(this.#dimensions);
    const bytes = new Uint8Array(scratch.buffer);
    for (let after = 0; ; ) {
      const rows = page.all(...where.params, after) as Array<{ id: number; vector: Buffer }>;
      for (const row of rows) {
        bytes.set(row.vector);
        let score = 0;
        for (let i = 0; i < scratch.length; i++) score += scratch[i]! * vector[i]!;
        best.push({ id: row.id, score });
      }
      best.sort((a, b) => b.score - a.score || a.id - b.id).splice(k);
      if (rows.length < SCAN_PAGE) break;
      after = rows[rows.length - 1]!.id;
      await new Promise((resolve) => setImmediate(resolve));
    }
    return this.#hydrate(
      best.map((hit) => hit.id - 1),
      best.map((hit) => hit.score),
      { hydrateSql: "", params: [] },
      k,
    );
  }

  #update(traceId: string, change: (turn: TurnRecord) => TurnRecord): TurnRecord {
    const id = parseTraceId(traceId);
    const apply = this.#db.transaction(() => {
      const row = this.#statements.byTrace.get(id) as TurnRow | undefined;
      if (!row) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${id}`, { details: { traceId: id } });
      const before = fromRow(row);
      const after = change(before);
      this.#statements.update.run({ trace_id: id, success: after.success ? 1 : 0, feedback: after.feedback ? JSON.stringify(after.feedback) : null, updated_at: after.updatedAt });
      return { before, after };
    });
    const { before, after } = apply.immediate();
    if (before.success !== after.success) {
      this.#counts.success += after.success ? 1 : -1;
      this.#publish();
    }
    return after;
  }

  #publish(): void {
    publishCounts(this.#metrics, this.counts());
  }

  #alive(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "This memory store has been disposed");
  }
}
