import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { CouncilError, type CouncilMetrics } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { embeddingDimensions } from "./embedding-dimensions.js";
import { countTurns, exactSearch, publishCounts, type VectorEntry } from "./turn-row.js";
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

export interface InMemoryStoreOptions {
  /** @default new HashEmbeddings({ dimensions }) */
  embeddings?: EmbeddingsInterface;
  /** The embeddings' vector length. @default `embeddings.dimensions`, else measured (384 for the default) */
  dimensions?: number;
  /** @default Date.now */
  now?: () => number;
  metrics?: Pick<CouncilMetrics, "memoryEntries">;
}

/**
 * The reference MemoryStore: everything in process memory, exact cosine search, nothing persisted.
 * For unit tests of other modules; it passes the same contract suite as FaissMemory.
 */
export class InMemoryStore implements MemoryStore {
  readonly #turns = new Map<string, VectorEntry>();
  readonly #embeddings: EmbeddingsInterface;
  readonly #dimensions: number;
  readonly #now: () => number;
  readonly #metrics: Pick<CouncilMetrics, "memoryEntries"> | undefined;
  #seq = 0;
  #disposed = false;

  private constructor(options: Required<Pick<InMemoryStoreOptions, "embeddings" | "dimensions" | "now">> & InMemoryStoreOptions) {
    this.#embeddings = options.embeddings;
    this.#dimensions = options.dimensions;
    this.#now = options.now;
    this.#metrics = options.metrics;
  }

  static async create({ dimensions: wanted, embeddings = new HashEmbeddings({ dimensions: wanted ?? 384 }), now = Date.now, metrics }: InMemoryStoreOptions = {}): Promise<InMemoryStore> {
    const dimensions = wanted ?? (await embeddingDimensions(embeddings));
    const store = new InMemoryStore({ dimensions, embeddings, now, metrics });
    store.#publish();
    return store;
  }

  async record(turn: TurnRecord): Promise<void> {
    this.#alive();
    const valid = parseTurn(turn);
    if (this.#turns.has(valid.traceId)) throw new CouncilError("TRACE_DUPLICATE", `Trace ${valid.traceId} is already recorded`);
    const vector = checkVector(await this.#embeddings.embedQuery(turnEmbeddingText(valid)), this.#dimensions);
    if (this.#turns.has(valid.traceId)) throw new CouncilError("TRACE_DUPLICATE", `Trace ${valid.traceId} is already recorded`);
    this.#turns.set(valid.traceId, { turn: structuredClone(valid), vector, seq: this.#seq++ });
    this.#publish();
  }

  async get(traceId: string): Promise<TurnRecord | undefined> {
    this.#alive();
    const entry = this.#turns.get(parseTraceId(traceId));
    return entry ? structuredClone(entry.turn) : undefined;
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
    return this.#window(parseFailureQuery(query), (turn) => !turn.success);
  }

  async turns(query?: FailureQuery): Promise<TurnRecord[]> {
    this.#alive();
    return this.#window(parseFailureQuery(query), () => true);
  }

  async search(query: string, options?: { k?: number; filter?: MemorySearchFilter }): Promise<MemoryHit[]> {
    this.#alive();
    const text = parseQueryText(query);
    const { k, filter } = parseSearchOptions(options);
    const vector = checkVector(await this.#embeddings.embedQuery(text), this.#dimensions);
    return exactSearch(this.#turns.values(), vector, { k, filter });
  }

  counts(): { total: number; success: number; failure: number } {
    return countTurns(this.#turns.values());
  }

  async dispose(): Promise<void> {
    this.#disposed = true;
  }

  #update(traceId: string, change: (turn: TurnRecord) => TurnRecord): TurnRecord {
    const entry = this.#turns.get(parseTraceId(traceId));
    if (!entry) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${traceId}`, { details: { traceId } });
    entry.turn = change(entry.turn);
    this.#publish();
    return structuredClone(entry.turn);
  }

  #window({ since, until, limit }: FailureQuery, keep: (turn: TurnRecord) => boolean): TurnRecord[] {
    const selected = [...this.#turns.values()]
      .filter(({ turn }) => keep(turn) && (since === undefined || turn.createdAt >= since) && (until === undefined || turn.createdAt < until))
      .sort((a, b) => a.turn.createdAt - b.turn.createdAt || a.seq - b.seq);
    return selected.slice(0, limit ?? selected.length).map(({ turn }) => structuredClone(turn));
  }

  #publish(): void {
    publishCounts(this.#metrics, this.counts());
  }

  #alive(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "This memory store has been disposed");
  }
}
