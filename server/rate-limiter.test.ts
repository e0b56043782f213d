import { describe, expect, it } from "vitest";
import { KeyedRateLimiter, TokenBucket } from "./rate-limiter.js";

describe("TokenBucket", () => {
  it("allows a burst of perMinute, then refills one token every 60/perMinute seconds", () => {
    let now = 1_000_000;
    const bucket = new TokenBucket({ perMinute: 6, now: () => now });
    expect(Array.from({ length: 7 }, () => bucket.take())).toEqual([true, true, true, true, true, true, false]);
    now += 9_999;
    expect(bucket.take()).toBe(false);
    now += 1;
    expect(bucket.take()).toBe(true);
    now += 3_600_000;
    expect(Array.from({ length: 7 }, () => bucket.take()).filter(Boolean)).toHaveLength(6);
  });
});

describe("KeyedRateLimiter", () => {
  it("keeps one bucket per key and never more than maxKeys buckets", () => {
    const limiter = new KeyedRateLimiter({ perMinute: 1, now: () => 0, maxKeys: 2 });
    expect(limiter.take("a")).toBe(true);
    expect(limiter.take("a")).toBe(false);
    expect(limiter.take("b")).toBe(true);
    expect(limiter.take("c")).toBe(true);
    // "a" was evicted when "c" arrived, so it starts with a fresh bucket
    expect(limiter.take("a")).toBe(true);
  });
});

describe("waitMs", () => {
  it("says how long until the next token without taking one, and makes no bucket for an unknown key", () => {
    let now = 0;
    const limiter = new KeyedRateLimiter({ perMinute: 2, now: () => now });
    expect(limiter.waitMs("a")).toBe(0);
    expect([limiter.take("a"), limiter.take("a")]).toEqual([true, true]);
    expect(limiter.waitMs("a")).toBe(30_000);
    now += 10_000;
    expect(limiter.waitMs("a")).toBe(20_000);
    expect(limiter.waitMs("a")).toBe(20_000);
    now += 20_000;
    expect(limiter.waitMs("a")).toBe(0);
    expect(limiter.take("a")).toBe(true);
  });
});
