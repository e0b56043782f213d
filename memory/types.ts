/** The failure taxonomy the critic uses and the harvester groups by. Documented in README. */
export const FAILURE_CATEGORIES = ["off-topic", "ungrounded", "incomplete", "unsafe", "format", "user-rejected", "runaway"] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];

export interface Feedback {
  rating: 1 | -1;
  comment?: string;
  correction?: string;
  /** True when the rater had no verified chat token: the correction is kept but not trained on unless configured. */
  anonymous?: boolean;
  /** Unix ms. */
  at: number;
}

/** One chat turn as memory holds it. The nightly harvester finds failures by `success` and time. */
export interface TurnRecord {
  traceId: string;
  sessionId: string;
  userId: string | null;
  question: string;
  answer: string;
  route: string;
  model: string;
  /** Adapter version that produced the answer; null for the bare base model. */
  adapter: string | null;
  score: number;
  category: FailureCategory | null;
  reasons: string[];
  success: boolean;
  feedback: Feedback | null;
  latencyMs: number;
  tokens: number;
  /** Unix ms. */
  createdAt: number;
  updatedAt: number;
}

export interface FailureQuery {
  /** Unix ms, inclusive. */
  since?: number;
  /** Unix ms, exclusive. */
  until?: number;
  limit?: number;
}

export interface MemorySearchFilter {
  success?: boolean;
  route?: string;
  adapter?: string | null;
  sessionId?: string;
}

export interface MemoryHit {
  record: TurnRecord;
  /** Similarity in [-1, 1] (cosine; higher is closer). */
  score: number;
}

/** Memory of past turns. Every implementation passes `memory/memory-store.contract.ts`. */
export interface MemoryStore {
  /** Persists a turn (durably: survives kill -9 once the promise resolves). */
  record(turn: TurnRecord): Promise<void>;
  get(traceId: string): Promise<TurnRecord | undefined>;
  /** Sets feedback; a 👎 also sets success=false. Throws CouncilError TRACE_NOT_FOUND. */
  setFeedback(traceId: string, feedback: Feedback): Promise<TurnRecord>;
  setSuccess(traceId: string, success: boolean): Promise<TurnRecord>;
  /** Failed turns (success=false) by time, oldest first: never by similarity. */
  failures(query?: FailureQuery): Promise<TurnRecord[]>;
  /** All turns in a time window, oldest first (regression sets, harvesting 👍). */
  turns(query?: FailureQuery): Promise<TurnRecord[]>;
  search(query: string, options?: { k?: number; filter?: MemorySearchFilter }): Promise<MemoryHit[]>;
  counts(): { total: number; success: number; failure: number };
  dispose(): Promise<void>;
}

export interface Passage {
  id: string;
  /** File the passage came from, relative to its knowledge-base root. */
  source: string;
  title: string;
  text: string;
}

export interface PassageHit {
  passage: Passage;
  score: number;
}

/** Knowledge-base retrieval (kb/ and any folder of markdown). */
export interface KnowledgeBase {
  search(query: string, options?: { k?: number }): Promise<PassageHit[]>;
  size(): number;
  /**
   * In how many passages a word occurs (stemmed as the lexical index stems: "owns" counts passages with "owner"),
   * title included; `undefined` for a stopword or a text with no word. How rare a question's word is in the notes.
   */
  documentFrequency?(word: string): number | undefined;
  dispose(): Promise<void>;
}
