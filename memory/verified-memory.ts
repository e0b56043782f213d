import { createHash } from "node:crypto";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { NIGHTLY_ACTOR, type EventSink } from "./event-log-schema.js";
import type { VerifiedRows } from "./verified-rows.js";
import { openSqliteVerifiedRows } from "./verified-sqlite.js";

/** Where a verified answer came from: an Agent-0 rewrite, a user's correction, or an answer users rated 👍. */
export const VERIFIED_SOURCES = ["agent0", "correction", "rated"] as const;
export type VerifiedSource = (typeof VERIFIED_SOURCES)[number];

/**
 * Life of an entry: `canary` (visible only to turns served by the adapter version it shipped with), `active`
 * (visible to everyone), `demoted` (a 👎 on it: never served until a later night verifies it again), `withdrawn`
 * (its release was rolled back).
 */
export const VERIFIED_STATUSES = ["canary", "active", "demoted", "withdrawn"] as const;
export type VerifiedStatus = (typeof VERIFIED_STATUSES)[number];

const ballotSchema = z.object({ voter: z.string(), score: z.number(), reason: z.string() }).passthrough();

export const verifiedEntryInputSchema = z
  .object({
    question: z.string().trim().min(1).max(4000),
    answer: z.string().trim().min(1).max(4000),
    source: z.enum(VERIFIED_SOURCES),
    runId: z.string().min(1).max(200),
    voteScore: z.number().min(0).max(1),
    ballots: z.array(ballotSchema).max(100),
    /** The release it ships with: the adapter version, or `memory:<runId>` for a memory-only release. */
    release: z.string().min(1).max(200),
    status: z.enum(["canary", "active"]),
    traceIds: z.array(z.string().max(200)).max(1000).default([]),
  })
  .strict();
export type VerifiedEntryInput = z.input<typeof verifiedEntryInputSchema>;

export interface VerifiedEntry extends Omit<z.infer<typeof verifiedEntryInputSchema>, "status"> {
  /** `v-` + 16 hex of sha256(question, answer): the same fix verified twice is one entry. */
  id: string;
  status: VerifiedStatus;
  /** Why the entry was last demoted or withdrawn. */
  note: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface VerifiedHit {
  entry: VerifiedEntry;
  /** Cosine similarity of the questions in [-1, 1]. */
  score: number;
}

/** Which entries a turn may see: active ones, and canary ones of the adapter version serving it. */
export interface VerifiedVisibility {
  adapterVersion: string | null;
}

export interface VerifiedMemoryOptions {
  /** SQLite file (created with its folder); or give `rows` (e.g. Postgres) instead. */
  path?: string;
  /** Where the entries are stored. @default SQLite at `path` */
  rows?: VerifiedRows;
  embeddings: EmbeddingsInterface;
  /** @default Date.now */
  now?: () => number;
  logger?: Logger;
  /** Event log: every change is appended (`verified-added`, `verified-demoted`, `verified-release-changed`) before it is acknowledged. */
  events?: EventSink;
}

export function verifiedEntryId(question: string, answer: string): string {
  return `v-${createHash("sha256").update(question.trim().toLowerCase()).update("\u0000").update(answer.trim()).digest("hex").slice(0, 16)}`;
}

/**
 * Verified memory: questions with answers the nightly council voted for, searchable by question. The rows (SQLite
 * in the data dir, or Postgres shared by replicas) are the truth; each process keeps the question vectors in memory
 * and reloads when another process changed the rows (the rows' `version`). Entries are few (one per verified
 * fix), so search is an exact scan. No request path writes entries: only the nightly run (`add`), a 👎 (`demote`)
 * and releases (`setReleaseStatus`).
 */
export class VerifiedMemory {
  readonly #rows: VerifiedRows;
  readonly #embeddings: EmbeddingsInterface;
  readonly #now: () => number;
  readonly #logger: Logger;
  readonly #events: EventSink | undefined;
  #entries: VerifiedEntry[] = [];
  readonly #vectors = new Map<string, number[]>();
  /** Vectors of texts compared by `similarity` (bounded, oldest dropped first). */
  readonly #textVectors = new Map<string, number[]>();
  #version = "";
  #disposed = false;

  private constructor(rows: VerifiedRows, options: VerifiedMemoryOptions) {
    this.#rows = rows;
    this.#embeddings = options.embeddings;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger ?? silentLogger;
    this.#events = options.events;
  }

  static async create(options: VerifiedMemoryOptions): Promise<VerifiedMemory> {
    if (options.rows === undefined && options.path === undefined) throw new CouncilError("CONFIG_INVALID", "Verified memory needs a SQLite path or a row store.");
    const rows = options.rows ?? openSqliteVerifiedRows(options.path!);
    const memory = new VerifiedMemory(rows, options);
    try {
      await memory.#refresh({ force: true });
    } catch (error) {
      await rows.close();
      throw error;
    }
    return memory;
  }

  /** Adds (or re-verifies) entries; an entry with the same question and answer is updated in place. */
  async add(inputs: readonly VerifiedEntryInput[], { actor = NIGHTLY_ACTOR }: { actor?: string } = {}): Promise<VerifiedEntry[]> {
    this.#alive();
    const at = this.#now();
    const parsed = inputs.map((input) => {
      const result = verifiedEntryInputSchema.safeParse(input);
      if (!result.success) throw new CouncilError("FRAME_INVALID", `Invalid verified entry: ${result.error.issues[0]?.path.join(".")}: ${result.error.issues[0]?.message}`);
      return result.data;
    });
    const ids = parsed.map((entry) => verifiedEntryId(entry.question, entry.answer));
    await this.#rows.upsert(parsed.map((entry, index) => ({ ...entry, id: ids[index]! })), at);
    await this.#refresh({ force: true });
    for (const [index, entry] of parsed.entries()) await this.#events?.append({ actor, type: "verified-added", payload: { id: ids[index], ...entry, at } });
    return ids.map((id) => this.get(id)!);
  }

  get(id: string): VerifiedEntry | undefined {
    return this.#entries.find((entry) => entry.id === id);
  }

  /** Every entry (refreshed from disk first), newest first. */
  async list(): Promise<VerifiedEntry[]> {
    this.#alive();
    await this.#refresh();
    return [...this.#entries].sort((a, b) => b.updatedAt - a.updatedAt);
  }

  /** Entries visible to a turn, most similar question first. */
  async search(question: string, { k = 3, visibleTo }: { k?: number; visibleTo: VerifiedVisibility }): Promise<VerifiedHit[]> {
    this.#alive();
    await this.#refresh();
    const visible = this.#entries.filter((entry) => entry.status === "active" || (entry.status === "canary" && entry.release === visibleTo.adapterVersion));
    if (visible.length === 0) return [];
    const query = await this.#embeddings.embedQuery(question);
    return visible
      .map((entry) => ({ entry, score: cosine(query, this.#vectors.get(entry.id) ?? []) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  /** Cosine similarity of two questions under this memory's embeddings (the reuse threshold's scale). */
  async similarity(a: string, b: string): Promise<number> {
    // The night's memory gate compares every entry with every eval case: embed each text once.
    const missing = [...new Set([a, b])].filter((text) => !this.#textVectors.has(text));
    if (missing.length > 0) {
      const vectors = await this.#embeddings.embedDocuments(missing);
      missing.forEach((text, index) => this.#textVectors.set(text, vectors[index]!));
      while (this.#textVectors.size > 10_000) this.#textVectors.delete(this.#textVectors.keys().next().value!);
    }
    return cosine(this.#textVectors.get(a)!, this.#textVectors.get(b)!);
  }

  /** Remembers that a turn was answered from an entry (so a 👎 on that turn demotes it). */
  async markServed({ traceId, entryId }: { traceId: string; entryId: string }): Promise<void> {
    this.#alive();
    await this.#rows.markServed({ traceId, entryId, at: this.#now() });
  }

  servedBy(traceId: string): Promise<string | undefined> {
    this.#alive();
    return this.#rows.servedBy(traceId);
  }

  /** Takes an entry out of service at once (a 👎 on an answer it served). Returns the entry, or undefined when unknown. */
  async demote({ id, note, actor = NIGHTLY_ACTOR }: { id: string; note: string; actor?: string }): Promise<VerifiedEntry | undefined> {
    this.#alive();
    const at = this.#now();
    const changes = await this.#rows.demote({ id, note, at });
    await this.#refresh({ force: true });
    if (changes > 0) await this.#events?.append({ actor, type: "verified-demoted", payload: { id, note, at } });
    if (changes > 0) this.#logger.warn({ entry: id, note }, "verified entry demoted");
    return this.get(id);
  }

  /**
   * Moves a release's entries between states: `canary → active` when the release is promoted, `canary|active →
   * withdrawn` when it is rolled back. Demoted entries stay demoted. Returns how many entries changed.
   */
  async setReleaseStatus({ release, to, note, actor = NIGHTLY_ACTOR }: { release: string; to: "active" | "withdrawn"; note?: string; actor?: string }): Promise<number> {
    this.#alive();
    const from: VerifiedStatus[] = to === "active" ? ["canary"] : ["canary", "active"];
    const at = this.#now();
    const changes = await this.#rows.setStatus({ release, to, from, note: note ?? null, at });
    await this.#refresh({ force: true });
    if (changes > 0) await this.#events?.append({ actor, type: "verified-release-changed", payload: { release, to, ...(note === undefined ? {} : { note }), at, changed: changes } });
    return changes;
  }

  /** Deletes the entries made from any of these turns, and their served-by rows (a user's erasure). Returns the ids deleted. */
  async eraseTraces(traceIds: readonly string[]): Promise<string[]> {
    this.#alive();
    await this.#refresh({ force: true });
    const traces = new Set(traceIds);
    const ids = this.#entries.filter((entry) => entry.traceIds.some((id) => traces.has(id))).map((entry) => entry.id);
    await this.#rows.erase({ ids, traceIds });
    await this.#refresh({ force: true });
    return ids;
  }

  counts(): Record<VerifiedStatus, number> {
    const counts = { canary: 0, active: 0, demoted: 0, withdrawn: 0 };
    for (const entry of this.#entries) counts[entry.status] += 1;
    return counts;
  }

  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#rows.close();
  }

  /** Reloads rows when another process changed them since the last load (or `force`, after our own writes); embeds new questions. */
  async #refresh({ force = false }: { force?: boolean } = {}): Promise<void> {
    const version = await this.#rows.version();
    if (!force && version === this.#version) return;
    this.#entries = await this.#rows.all();
    const missing = this.#entries.filter((entry) => !this.#vectors.has(entry.id));
    if (missing.length > 0) {
      const vectors = await this.#embeddings.embedDocuments(missing.map((entry) => entry.question));
      missing.forEach((entry, index) => this.#vectors.set(entry.id, vectors[index]!));
    }
    this.#version = version;
  }

  #alive(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "Verified memory was disposed.");
  }
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    dot += a[i]! * b[i]!;
    normA += a[i]! * a[i]!;
    normB += b[i]! * b[i]!;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
