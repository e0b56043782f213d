import { randomUUID } from "node:crypto";
import { CouncilError } from "../../core/index.js";
import type { CouncilRuntime, TurnRequest, TurnResult, TurnSource } from "../../council/types.js";
import type { MemoryStore, TurnRecord } from "../../memory/types.js";

export interface FakeCouncilRuntimeOptions {
  /** Where turns are recorded (FakeMemoryStore in unit tests, the real FaissMemory in integration tests). */
  memory: MemoryStore;
  /** The answer to a question. @default "You asked: <text>" */
  answer?: (text: string) => string;
  /** Score the fake critic gives. @default 0.9 */
  score?: (text: string) => number;
  /** Delay between streamed tokens (real timers). @default 0 */
  tokenDelayMs?: number;
  /** When true, every turn waits for `release()` before answering. @default false */
  hold?: boolean;
  /** The draft streamed as tokens before the final answer (the council may replace a failed draft). @default the answer */
  draft?: (text: string) => string;
  /** When true, every turn waits for `release()` after streaming its draft and before the final answer. @default false */
  holdAfterDraft?: boolean;
  /** Where the answer came from (the final frame's `source`). @default { kind: "model", adapter } */
  source?: (text: string) => TurnSource;
  /** @default true */
  ready?: boolean;
  /** @default Date.now */
  now?: () => number;
  /** @default randomUUID */
  generateId?: () => string;
  adapter?: string | null;
}

/**
 * A CouncilRuntime without a model for server tests: streams a scripted answer word by word, keeps
 * session history, records every turn in the given MemoryStore, honours the abort signal, and records
 * the requests it saw. `hold` lets a test keep turns running (busy queue, shutdown).
 */
export class FakeCouncilRuntime implements CouncilRuntime {
  readonly requests: TurnRequest[] = [];
  readonly sessions = new Map<string, string[]>();
  readonly memory: MemoryStore;
  isReady: boolean;
  disposed = false;
  readonly #options: Required<Omit<FakeCouncilRuntimeOptions, "memory" | "ready">>;
  #releases: Array<() => void> = [];

  constructor({ memory, ready = true, ...options }: FakeCouncilRuntimeOptions) {
    this.memory = memory;
    this.isReady = ready;
    this.#options = {
      answer: (text) => `You asked: ${text}`,
      score: () => 0.9,
      tokenDelayMs: 0,
      hold: false,
      draft: (text) => this.#options.answer(text),
      holdAfterDraft: false,
      source: () => ({ kind: "model", adapter: this.#options.adapter }),
      now: Date.now,
      generateId: randomUUID,
      adapter: null,
      ...options,
    };
  }

  /** Turns currently waiting in `hold`. */
  get held(): number {
    return this.#releases.length;
  }

  /** Lets every held turn go on. */
  release(): void {
    for (const release of this.#releases.splice(0)) release();
  }

  ready(): boolean {
    return this.isReady;
  }

  async turn(request: TurnRequest): Promise<TurnResult> {
    if (this.disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "The fake runtime is disposed.");
    this.requests.push({ ...request });
    const started = this.#options.now();
    const history = this.sessions.get(request.sessionId) ?? [];
    history.push(request.text);
    this.sessions.set(request.sessionId, history);
    if (this.#options.hold) await this.#waitForRelease(request.signal);
    const answer = this.#options.answer(request.text);
    const pieces = this.#options.draft(request.text).split(/(?<= )/);
    for (const piece of pieces) {
      if (request.signal?.aborted) throw new CouncilError("CANCELLED", "The turn was cancelled.");
      if (this.#options.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.#options.tokenDelayMs));
      request.onToken?.(piece);
    }
    if (this.#options.holdAfterDraft) await this.#waitForRelease(request.signal);
    const score = this.#options.score(request.text);
    const now = this.#options.now();
    const record: TurnRecord = {
      traceId: this.#options.generateId(),
      sessionId: request.sessionId,
      userId: request.userId ?? null,
      question: request.text,
      answer,
      route: "general",
      model: "fake",
      adapter: this.#options.adapter,
      score,
      category: score >= 0.5 ? null : "incomplete",
      reasons: [],
      success: score >= 0.5,
      feedback: null,
      latencyMs: now - started,
      tokens: pieces.length,
      createdAt: now,
      updatedAt: now,
    };
    await this.memory.record(record);
    return { traceId: record.traceId, answer, source: this.#options.source(request.text), score, success: record.success, route: record.route, adapter: record.adapter, category: record.category, reasons: [], latencyMs: record.latencyMs, tokens: record.tokens };
  }

  #waitForRelease(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#releases.push(resolve);
      signal?.addEventListener("abort", () => reject(new CouncilError("CANCELLED", "The turn was cancelled.")), { once: true });
    });
  }

  async feedback(input: Parameters<CouncilRuntime["feedback"]>[0]): Promise<TurnRecord> {
    const { traceId, ...feedback } = input;
    return this.memory.setFeedback(traceId, { ...feedback, at: this.#options.now() });
  }

  trace(traceId: string): Promise<TurnRecord | undefined> {
    return this.memory.get(traceId);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.release();
    await this.memory.dispose();
  }
}
