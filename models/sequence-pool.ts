import { CouncilError } from "../core/index.js";

/**
 * A fixed pool of exclusive resources (context sequences). `acquire` waits until one is free, so work on one
 * sequence is serialised; waiters are served first come, first served. An aborted wait rejects with CANCELLED.
 */
export class SequencePool<T> {
  readonly #free: T[];
  readonly #waiters: { resolve: (item: T) => void; reject: (error: unknown) => void }[] = [];
  #closed = false;

  constructor(items: readonly T[]) {
    this.#free = [...items];
  }

  get available(): number {
    return this.#free.length;
  }

  acquire(signal?: AbortSignal): Promise<T> {
    if (this.#closed) return Promise.reject(new CouncilError("BACKEND_UNAVAILABLE", "The model context was disposed."));
    if (signal?.aborted) return Promise.reject(new CouncilError("CANCELLED", "The request was cancelled before it started.", { cause: signal.reason }));
    const item = this.#free.shift();
    if (item !== undefined) return Promise.resolve(item);
    return new Promise<T>((resolve, reject) => {
      const waiter = {
        resolve: (value: T) => {
          signal?.removeEventListener("abort", onAbort);
          resolve(value);
        },
        reject: (error: unknown) => {
          signal?.removeEventListener("abort", onAbort);
          reject(error);
        },
      };
      const onAbort = () => {
        const index = this.#waiters.indexOf(waiter);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(new CouncilError("CANCELLED", "The request was cancelled while waiting for the model.", { cause: signal?.reason }));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  release(item: T): void {
    const waiter = this.#waiters.shift();
    if (waiter !== undefined) waiter.resolve(item);
    else this.#free.push(item);
  }

  /** Rejects every waiter; later `acquire` calls fail with BACKEND_UNAVAILABLE. */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new CouncilError("BACKEND_UNAVAILABLE", "The model context was disposed."));
  }
}
