import { CouncilError } from "../../core/index.js";
import type { FailureQuery, Feedback, MemoryHit, MemorySearchFilter, MemoryStore, TurnRecord } from "../../memory/types.js";

/**
 * An in-process MemoryStore for unit tests: arrays, word-overlap similarity, no persistence.
 * Behaves like the real store on the interface (TRACE_NOT_FOUND, 👎 sets success=false, time order).
 */
export class FakeMemoryStore implements MemoryStore {
  readonly #records = new Map<string, TurnRecord>();
  readonly #now: () => number;

  constructor({ now = Date.now }: { now?: () => number } = {}) {
    this.#now = now;
  }

  async record(turn: TurnRecord): Promise<void> {
    this.#records.set(turn.traceId, structuredClone(turn));
  }

  async get(traceId: string): Promise<TurnRecord | undefined> {
    const record = this.#records.get(traceId);
    return record && structuredClone(record);
  }

  async setFeedback(traceId: string, feedback: Feedback): Promise<TurnRecord> {
    const record = this.#require(traceId);
    record.feedback = { ...feedback };
    if (feedback.rating === -1) record.success = false;
    record.updatedAt = this.#now();
    return structuredClone(record);
  }

  async setSuccess(traceId: string, success: boolean): Promise<TurnRecord> {
    const record = this.#require(traceId);
    record.success = success;
    record.updatedAt = this.#now();
    return structuredClone(record);
  }

  async failures(query: FailureQuery = {}): Promise<TurnRecord[]> {
    return (await this.turns({ ...query, limit: undefined })).filter((record) => !record.success).slice(0, query.limit);
  }

  async turns({ since = -Infinity, until = Infinity, limit }: FailureQuery = {}): Promise<TurnRecord[]> {
    return [...this.#records.values()]
      .filter((record) => record.createdAt >= since && record.createdAt < until)
      .sort((a, b) => a.createdAt - b.createdAt)
      .slice(0, limit)
      .map((record) => structuredClone(record));
  }

  async search(query: string, { k = 5, filter = {} }: { k?: number; filter?: MemorySearchFilter } = {}): Promise<MemoryHit[]> {
    const words = new Set(tokens(query));
    return [...this.#records.values()]
      .filter((record) => matches(record, filter))
      .map((record) => {
        const other = new Set(tokens(record.question));
        let shared = 0;
        for (const word of words) if (other.has(word)) shared += 1;
        const union = new Set([...words, ...other]).size;
        return { record: structuredClone(record), score: union === 0 ? 0 : shared / union };
      })
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  counts(): { total: number; success: number; failure: number } {
    const all = [...this.#records.values()];
    const success = all.filter((record) => record.success).length;
    return { total: all.length, success, failure: all.length - success };
  }

  async dispose(): Promise<void> {}

  #require(traceId: string): TurnRecord {
    const record = this.#records.get(traceId);
    if (!record) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${traceId}.`);
    return record;
  }
}

function matches(record: TurnRecord, filter: MemorySearchFilter): boolean {
  return (
    (filter.success === undefined || record.success === filter.success) &&
    (filter.route === undefined || record.route === filter.route) &&
    (filter.adapter === undefined || record.adapter === filter.adapter) &&
    (filter.sessionId === undefined || record.sessionId === filter.sessionId)
  );
}

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((word) => word.length > 2);
}
