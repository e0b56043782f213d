import { CouncilError } from "../core/index.js";

export interface GenerationQueueOptions {
  /** Turns generated at once (the model's parallel sequences). */
  concurrency: number;
  /** Turns allowed to wait; one more is answered BUSY at once. */
  maxWaiting: number;
  /**
   * Longest expected wait (ms) a new turn is admitted into: the queue keeps a moving average of how long a turn
   * runs, and a turn that would wait longer (waiting turns ahead ÷ concurrency × average) is answered BUSY at once,
   * with `retryAfterSeconds`, instead of queueing. Unset: only `maxWaiting` bounds the queue.
   */
  maxWaitMs?: number;
  /** Clock for the turn durations (tests). */
  now?: () => number;
  /** Called with running + waiting whenever it changes (the council_queue_depth gauge). */
  onDepth?: (depth: number) => void;
}

interface Waiting {
  start: () => void;
  reject: (error: CouncilError) => void;
}

/**
 * A bounded FIFO in front of the model: at most `concurrency` turns run, at most `maxWaiting` wait,
 * and a full queue rejects with `BUSY` immediately (never hangs). A waiting turn whose signal aborts
 * leaves the queue.
 */
export class GenerationQueue {
  readonly #concurrency: number;
  readonly #maxWaiting: number;
  readonly #onDepth: (depth: number) => void;
  readonly #maxWaitMs: number | undefined;
  readonly #now: () => number;
  /** Moving average of a turn's run time (ms); undefined until one has finished. */
  #averageRunMs: number | undefined;
  readonly #waiting: Waiting[] = [];
  /** Each running turn with its start time (for the oldest running turn's age). */
  readonly #running = new Map<Promise<unknown>, number>();
  #closed = false;

  constructor({ concurrency, maxWaiting, maxWaitMs, now = () => performance.now(), onDepth = () => {} }: GenerationQueueOptions) {
    this.#concurrency = concurrency;
    this.#maxWaiting = maxWaiting;
    this.#maxWaitMs = maxWaitMs;
    this.#now = now;
    this.#onDepth = onDepth;
  }

  get depth(): number {
    return this.#running.size + this.#waiting.length;
  }

  /**
   * Expected wait (ms) of a turn submitted now: waiting turns ahead ÷ concurrency × the turn time, where the turn time is
   * the moving average, or the age of the oldest running turn when that is longer (turns slowing down). 0 while a slot
   * is free; Infinity before any turn has finished (no estimate yet: see `submit`).
   */
  get expectedWaitMs(): number {
    if (this.#running.size < this.#concurrency) return 0;
    if (this.#averageRunMs === undefined) return Number.POSITIVE_INFINITY;
    const now = this.#now();
    const oldestAge = Math.max(0, ...[...this.#running.values()].map((startedAt) => now - startedAt));
    return Math.ceil((this.#waiting.length + 1) / this.#concurrency) * Math.max(this.#averageRunMs, oldestAge);
  }

  /** Runs `task` when a slot frees. Rejects with BUSY (queue full), CANCELLED (aborted or closed while waiting). */
  submit<T>(task: () => Promise<T>, { signal }: { signal?: AbortSignal } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new CouncilError("CANCELLED", "The server is shutting down."));
    if (signal?.aborted) return Promise.reject(new CouncilError("CANCELLED", "The request was cancelled."));
    if (this.#running.size < this.#concurrency) return this.#start(task);
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(new CouncilError("BUSY", `The generation queue is full (${this.#maxWaiting} waiting); retry shortly.`, { details: { retryAfterSeconds: this.#retryAfterSeconds(0) } }));
    }
    const expected = this.expectedWaitMs;
    // Before any turn has finished the wait is unknown: one round of waiting turns (as many as run at once) is admitted.
    const unknownAndFull = expected === Number.POSITIVE_INFINITY && this.#waiting.length >= this.#concurrency;
    if (this.#maxWaitMs !== undefined && (unknownAndFull || (Number.isFinite(expected) && expected > this.#maxWaitMs))) {
      const retryAfterSeconds = this.#retryAfterSeconds(this.#maxWaitMs);
      const about = Number.isFinite(expected) ? `Answers are taking about ${Math.round(expected / 1000)} s to start` : "The first answers are still being generated";
      return Promise.reject(new CouncilError("BUSY", `${about} (${this.#waiting.length} waiting); retry in ${retryAfterSeconds} s.`, { details: { retryAfterSeconds } }));
    }
    return new Promise<T>((resolve, reject) => {
      const entry: Waiting = {
        start: () => {
          signal?.removeEventListener("abort", onAbort);
          this.#start(task).then(resolve, reject);
        },
        reject,
      };
      const onAbort = () => {
        const index = this.#waiting.indexOf(entry);
        if (index >= 0) {
          this.#waiting.splice(index, 1);
          this.#onDepth(this.depth);
          reject(new CouncilError("CANCELLED", "The request was cancelled while waiting."));
        }
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiting.push(entry);
      this.#onDepth(this.depth);
    });
  }

  /** Rejects every waiting turn with CANCELLED and resolves once running turns have settled. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const entry of this.#waiting.splice(0)) entry.reject(new CouncilError("CANCELLED", "The server is shutting down."));
    this.#onDepth(this.depth);
    await Promise.allSettled([...this.#running.keys()]);
  }

  /** Seconds until enough waiting turns have started that a new one would wait at most `admitMs` (at least 1). */
  #retryAfterSeconds(admitMs: number): number {
    const average = this.#averageRunMs;
    if (average === undefined || average <= 0) return 1;
    const admissibleWaiting = Math.max(0, Math.floor(admitMs / average) * this.#concurrency - 1);
    const departures = Math.max(0, this.#waiting.length - admissibleWaiting);
    return Math.max(1, Math.ceil((departures * average) / this.#concurrency / 1000));
  }

  #start<T>(task: () => Promise<T>): Promise<T> {
    const startedAt = this.#now();
    const promise = Promise.resolve().then(task);
    const tracked: Promise<T> = promise.finally(() => {
      const ranMs = this.#now() - startedAt;
      this.#averageRunMs = this.#averageRunMs === undefined ? ranMs : 0.8 * this.#averageRunMs + 0.2 * ranMs;
      this.#running.delete(tracked);
      this.#waiting.shift()?.start();
      this.#onDepth(this.depth);
    });
    this.#running.set(tracked, startedAt);
    this.#onDepth(this.depth);
    // The caller observes `promise`; `tracked` must not raise an unhandled rejection.
    tracked.catch(() => {});
    return promise;
  }
}
