import { describe, expect, it } from "vitest";
import { CanaryRouter, canaryBucket } from "./canary-router.js";
import type { CanaryState } from "./canary-state.js";

const state = (weight: number, status: CanaryState["status"] = "running"): CanaryState => ({
  version: "c".repeat(16),
  stable: "s".repeat(16),
  weight,
  step: 0,
  status,
  startedAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:00.000Z",
  reason: null,
});

describe("CanaryRouter", () => {
  const users = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

  it("routes about `weight` percent of users to the canary", () => {
    const router = new CanaryRouter({ stable: "stable-v" });
    for (const weight of [10, 50]) {
      router.update(state(weight));
      const share = users.filter((user) => router.select(user).slot === "canary").length / users.length;
      expect(Math.abs(share - weight / 100)).toBeLessThan(0.02);
    }
    router.update(state(100));
    expect(users.every((user) => router.select(user).version === "c".repeat(16))).toBe(true);
  });

  it("is sticky and monotone: a canary user at 10 % stays on the canary at 50 %", () => {
    const router = new CanaryRouter({ stable: "stable-v", state: state(10) });
    const at10 = users.filter((user) => router.select(user).slot === "canary");
    expect(at10.every((user) => router.select(user).slot === "canary")).toBe(true);
    router.update(state(50));
    expect(at10.every((user) => router.select(user).slot === "canary")).toBe(true);
  });

  it("sends everyone to stable when the canary is rolled back or absent", () => {
    const router = new CanaryRouter({ stable: "stable-v", state: state(50, "rolled-back") });
    expect(users.some((user) => router.select(user).slot === "canary")).toBe(false);
    router.update(null);
    expect(router.select("anyone")).toEqual({ slot: "stable", version: "stable-v" });
    expect(router.weight()).toBe(0);
  });

  it("buckets are in [0, 100)", () => {
    for (const user of users.slice(0, 1000)) {
      const bucket = canaryBucket(user);
      expect(bucket).toBeGreaterThanOrEqual(0);
      expect(bucket).toBeLessThan(100);
    }
  });
});
