export interface TokenBucketOptions {
  /** Sustained rate, and the burst size. */
  perMinute: number;
  /** @default Date.now */
  now?: () => number;
}

/**
 * A token bucket: `perMinute` messages may arrive at once, then one more every `60 / perMinute` seconds.
 * Constant memory per bucket (two numbers), so floods cost nothing to track.
 */
export class TokenBucket {
  readonly #capacity: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor({ perMinute, now = Date.now }: TokenBucketOptions) {
    this.#capacity = perMinute;
    this.#refillPerMs = perMinute / 60_000;
    this.#now = now;
    this.#tokens = perMinute;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty (the caller answers RATE_LIMITED). */
  take(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until `take()` would succeed; 0 when it would now. Takes nothing. */
  waitMs(): number {
    this.#refill();
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#refillPerMs);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + Math.max(0, now - this.#last) * this.#refillPerMs);
    this.#last = now;
  }
}

/** One bucket per key (client address for HTTP routes), at most `maxKeys` kept (oldest evicted). */
export class KeyedRateLimiter {
  readonly #buckets = new Map<string, TokenBucket>();
  readonly #options: TokenBucketOptions;
  readonly #maxKeys: number;

  constructor({ maxKeys = 10_000, ...options }: TokenBucketOptions & { maxKeys?: number }) {
    this.#options = options;
    this.#maxKeys = maxKeys;
  }

  take(key: string): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxKeys) this.#buckets.delete(this.#buckets.keys().next().value!);
      bucket = new TokenBucket(this.#options);
      this.#buckets.set(key, bucket);
    }
    return bucket.take();
  }

  /** Milliseconds until `key` may take again; 0 for a key with tokens left or no bucket (none is made). */
  waitMs(key: string): number {
    return this.#buckets.get(key)?.waitMs() ?? 0;
  }
}
