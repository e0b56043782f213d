import { CouncilError } from "../core/index.js";

export interface GenerationQueueOptions {
  /** Turns generated at once (the model's parallel sequences). */
  concurrency: number;
  /** Turns allowed to wait; one more is answered BUSY at once. */
  maxWaiting: number;
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
  readonly #waiting: Waiting[] = [];
  readonly #running = new Set<Promise<unknown>>();
  #closed = false;

  constructor({ concurrency, maxWaiting, onDepth = () => {} }: GenerationQueueOptions) {
    this.#concurrency = concurrency;
    this.#maxWaiting = maxWaiting;
    this.#onDepth = onDepth;
  }

  get depth(): number {
    return this.#running.size + this.#waiting.length;
  }

  /** Runs `task` when a slot frees. Rejects with BUSY (queue full), CANCELLED (aborted or closed while waiting). */
  submit<T>(task: () => Promise<T>, { signal }: { signal?: AbortSignal } = {}): Promise<T> {
    if (this.#closed) return Promise.reject(new CouncilError("CANCELLED", "The server is shutting down."));
    if (signal?.aborted) return Promise.reject(new CouncilError("CANCELLED", "The request was cancelled."));
    if (this.#running.size < this.#concurrency) return this.#start(task);
    if (this.#waiting.length >= this.#maxWaiting) {
      return Promise.reject(new CouncilError("BUSY", `The generation queue is full (${this.#maxWaiting} waiting); retry shortly.`));
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
    await Promise.allSettled([...this.#running]);
  }

  #start<T>(task: () => Promise<T>): Promise<T> {
    const promise = Promise.resolve().then(task);
    const tracked = promise.finally(() => {
      this.#running.delete(tracked);
      this.#waiting.shift()?.start();
      this.#onDepth(this.depth);
    });
    this.#running.add(tracked);
    this.#onDepth(this.depth);
    // The caller observes `promise`; `tracked` must not raise an unhandled rejection.
    tracked.catch(() => {});
    return promise;
  }
}
