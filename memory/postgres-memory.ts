import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import type { Pool, PoolClient } from "pg";
import { CouncilError, silentLogger, type CouncilMetrics, type Logger } from "../core/index.js";
import { embeddingDimensions, embeddingFingerprint } from "./embedding-dimensions.js";
import { applyMigrations, WRITE_LOCK } from "./postgres-migrations.js";
import { countTurns, exactSearch, publishCounts, turnFromCells, type TurnRowOf, type VectorEntry } from "./turn-row.js";
import { checkVector, feedbackUpdate, parseFailureQuery, parseQueryText, parseSearchOptions, parseTraceId, parseTurn, successUpdate, turnEmbeddingText } from "./turn-schema.js";
import type { Feedback, FailureQuery, MemoryHit, MemorySearchFilter, MemoryStore, TurnRecord } from "./types.js";

export interface PostgresMemoryOptions {
  /** `postgres://user:password@host:port/database` (COUNCIL_DATABASE_URL). */
  url: string;
  embeddings: EmbeddingsInterface;
  logger?: Logger;
  /** @default Date.now */
  now?: () => number;
  metrics?: Pick<CouncilMetrics, "memoryEntries">;
  /** Connections in this replica's pool. @default 4 */
  maxConnections?: number;
}

const COLUMNS = "seq::float8 AS seq, trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at";

/** A `council_turns` row as pg returns it (jsonb parsed, boolean flag). */
type TurnRow = TurnRowOf<unknown, boolean> & { seq: number };

/** The URL without its password, for messages and logs. */
export function redactDatabaseUrl(url: string): string {
  if (!URL.canParse(url)) return "(an unparsable URL)";
  const parsed = new URL(url);
  if (parsed.password) parsed.password = "***";
  return parsed.toString();
}

/**
 * Turn memory in Postgres, the truth every replica shares. Migrations are applied at start. Each replica keeps a
 * search cache (turns and their vectors, exact cosine) that follows the table by an id watermark: every read that
 * searches or counts first pulls the rows whose `change_seq` passed it, so a write on another replica is searchable
 * on the next search here. `counts()` is synchronous and reports the cache as of the last pull.
 */
export class PostgresMemory implements MemoryStore {
  readonly #pool: Pool;
  readonly #embeddings: EmbeddingsInterface;
  readonly #dimensions: number;
  readonly #key: string;
  readonly #now: () => number;
  readonly #metrics: Pick<CouncilMetrics, "memoryEntries"> | undefined;
  readonly #cache = new Map<string, VectorEntry>();
  #watermark = "0";
  #pulling: Promise<void> = Promise.resolve();
  #disposed = false;

  private constructor(options: { pool: Pool; embeddings: EmbeddingsInterface; dimensions: number; now: () => number; metrics: Pick<CouncilMetrics, "memoryEntries"> | undefined }) {
    this.#pool = options.pool;
    this.#embeddings = options.embeddings;
    this.#dimensions = options.dimensions;
    this.#key = embeddingFingerprint(options.embeddings, options.dimensions);
    this.#now = options.now;
    this.#metrics = options.metrics;
  }

  /** Connects, applies the pending migrations and loads the search cache. Unreachable database: BACKEND_UNAVAILABLE. */
  static async create({ url, embeddings, logger = silentLogger, now = Date.now, metrics, maxConnections = 4 }: PostgresMemoryOptions): Promise<PostgresMemory> {
    const { default: pg } = await import("pg");
    const pool = new pg.Pool({ connectionString: url, max: maxConnections });
    pool.on("error", (error) => logger.warn({ err: error }, "idle Postgres connection failed"));
    try {
      const client = await pool.connect().catch((error: unknown) => {
        throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot connect to Postgres at ${redactDatabaseUrl(url)}: ${(error as Error).message}. Check COUNCIL_DATABASE_URL and that the server is up.`, { cause: error });
      });
      try {
        const applied = await applyMigrations(client);
        if (applied.length > 0) logger.info({ applied }, "memory schema migrated");
      } finally {
        client.release();
      }
      const store = new PostgresMemory({ pool, embeddings, dimensions: await embeddingDimensions(embeddings), now, metrics });
      await store.#pull();
      return store;
    } catch (error) {
      await pool.end();
      throw error;
    }
  }

  async record(turn: TurnRecord): Promise<void> {
    this.#alive();
    const valid = parseTurn(turn);
    const vector = checkVector(await this.#embeddings.embedQuery(turnEmbeddingText(valid)), this.#dimensions);
    await this.#write(async (client) => {
      const inserted = await client.query(
        `INSERT INTO council_turns (trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback,
           latency_ms, tokens, created_at, updated_at, embedding, embedding_key, change_seq)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, nextval('council_turn_changes'))
         ON CONFLICT (trace_id) DO NOTHING`,
        [
          valid.traceId, valid.sessionId, valid.userId, valid.question, valid.answer, valid.route, valid.model, valid.adapter, valid.score, valid.category,
          JSON.stringify(valid.reasons), valid.success, valid.feedback === null ? null : JSON.stringify(valid.feedback), valid.latencyMs, valid.tokens,
          valid.createdAt, valid.updatedAt, Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength), this.#key,
        ],
      );
      if (inserted.rowCount === 0) throw new CouncilError("TRACE_DUPLICATE", `Trace ${valid.traceId} is already recorded`);
    });
  }

  async get(traceId: string): Promise<TurnRecord | undefined> {
    this.#alive();
    const { rows } = await this.#pool.query<TurnRow>(`SELECT ${COLUMNS} FROM council_turns WHERE trace_id = $1`, [parseTraceId(traceId)]);
    return rows[0] ? turnFromCells(rows[0]) : undefined;
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
    return this.#window(parseFailureQuery(query), true);
  }

  async turns(query?: FailureQuery): Promise<TurnRecord[]> {
    this.#alive();
    return this.#window(parseFailureQuery(query), false);
  }

  async search(query: string, options?: { k?: number; filter?: MemorySearchFilter }): Promise<MemoryHit[]> {
    this.#alive();
    const text = parseQueryText(query);
    const { k, filter } = parseSearchOptions(options);
    const vector = checkVector(await this.#embeddings.embedQuery(text), this.#dimensions);
    await this.#pull();
    return exactSearch(this.#cache.values(), vector, { k, filter });
  }

  counts(): { total: number; success: number; failure: number } {
    return countTurns(this.#cache.values());
  }

  /** Pulls what other replicas wrote since the last pull (search does this itself; counts() does not). */
  async refresh(): Promise<void> {
    this.#alive();
    await this.#pull();
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#pulling.catch(() => undefined);
    await this.#pool.end();
  }

  async #update(traceId: string, change: (turn: TurnRecord) => TurnRecord): Promise<TurnRecord> {
    const id = parseTraceId(traceId);
    let updated: TurnRecord | undefined;
    await this.#write(async (client) => {
      const { rows } = await client.query<TurnRow>(`SELECT ${COLUMNS} FROM council_turns WHERE trace_id = $1 FOR UPDATE`, [id]);
      if (!rows[0]) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${id}`, { details: { traceId: id } });
      updated = change(turnFromCells(rows[0]));
      await client.query("UPDATE council_turns SET success = $2, feedback = $3, updated_at = $4, change_seq = nextval('council_turn_changes') WHERE trace_id = $1", [
        id,
        updated.success,
        updated.feedback === null ? null : JSON.stringify(updated.feedback),
        updated.updatedAt,
      ]);
    });
    return updated!;
  }

  /** One write transaction under the write lock (so `change_seq` order is commit order), then a pull. */
  async #write(body: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      try {
        await client.query("SELECT pg_advisory_xact_lock($1)", [WRITE_LOCK]);
        await body(client);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    } finally {
      client.release();
    }
    await this.#pull();
  }

  async #window({ since, until, limit }: FailureQuery, failuresOnly: boolean): Promise<TurnRecord[]> {
    const { rows } = await this.#pool.query<TurnRow>(
      `SELECT ${COLUMNS} FROM council_turns
       WHERE ($1::float8 IS NULL OR created_at >= $1) AND ($2::float8 IS NULL OR created_at < $2) ${failuresOnly ? "AND NOT success" : ""}
       ORDER BY created_at, seq LIMIT $3`,
      [since ?? null, until ?? null, limit ?? null],
    );
    return rows.map(turnFromCells);
  }

  /** Pulls the rows changed after the watermark into the cache, one pull at a time. */
  #pull(): Promise<void> {
    const next = this.#pulling.then(() => this.#pullOnce());
    this.#pulling = next.catch(() => undefined);
    return next;
  }

  async #pullOnce(): Promise<void> {
    const { rows } = await this.#pool.query<TurnRow & { embedding: Buffer; embedding_key: string; change_seq: string }>(
      `SELECT ${COLUMNS}, embedding, embedding_key, change_seq::text AS change_seq FROM council_turns WHERE change_seq > $1::bigint ORDER BY change_seq`,
      [this.#watermark],
    );
    if (rows.length === 0) return;
    // Rows embedded by another embeddings model are embedded again here: the cache must hold this replica's vectors.
    const foreign = rows.filter((row) => row.embedding_key !== this.#key);
    const reembedded = foreign.length > 0 ? await this.#embeddings.embedDocuments(foreign.map((row) => turnEmbeddingText({ question: row.question }))) : [];
    const fresh = new Map(foreign.map((row, i) => [row.trace_id, checkVector(reembedded[i]!, this.#dimensions)]));
    for (const row of rows) {
      const vector = fresh.get(row.trace_id) ?? new Float32Array(row.embedding.buffer.slice(row.embedding.byteOffset, row.embedding.byteOffset + row.embedding.byteLength));
      this.#cache.set(row.trace_id, { turn: turnFromCells(row), vector, seq: row.seq });
    }
    this.#watermark = rows.at(-1)!.change_seq;
    this.#publish();
  }

  #publish(): void {
    publishCounts(this.#metrics, this.counts());
  }

  #alive(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "This memory store has been disposed");
  }
}
