import { describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { SequencePool } from "./sequence-pool.js";

describe("SequencePool", () => {
  it("hands each item to one holder at a time, waiters first come first served", async () => {
    const pool = new SequencePool(["s0"]);
    const first = await pool.acquire();
    const order: string[] = [];
    const second = pool.acquire().then((item) => order.push(`second:${item}`));
    const third = pool.acquire().then((item) => order.push(`third:${item}`));
    expect(pool.available).toBe(0);
    await Promise.resolve();
    expect(order).toEqual([]);
    pool.release(first);
    await second;
    pool.release("s0");
    await third;
    expect(order).toEqual(["second:s0", "third:s0"]);
  });

  it("an aborted wait rejects with CANCELLED and leaves the queue", async () => {
    const pool = new SequencePool([1]);
    const held = await pool.acquire();
    const controller = new AbortController();
    const waiting = pool.acquire(controller.signal);
    controller.abort();
    expect(isCouncilError(await waiting.catch((error: unknown) => error), "CANCELLED")).toBe(true);
    pool.release(held);
    expect(pool.available).toBe(1);
  });

  it("close rejects waiters and later acquires with BACKEND_UNAVAILABLE", async () => {
    const pool = new SequencePool(["x"]);
    await pool.acquire();
    const waiting = pool.acquire();
    pool.close();
    expect(isCouncilError(await waiting.catch((error: unknown) => error), "BACKEND_UNAVAILABLE")).toBe(true);
    expect(isCouncilError(await pool.acquire().catch((error: unknown) => error), "BACKEND_UNAVAILABLE")).toBe(true);
  });
});
