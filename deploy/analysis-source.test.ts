import { describe, expect, it } from "vitest";
import { createMetrics } from "../core/index.js";
import { histogramQuantile } from "./analysis-source.js";
import { RegistrySource } from "./registry-source.js";

describe("histogramQuantile", () => {
  it("interpolates inside the bucket like Prometheus", () => {
    // 100 observations: 50 ≤ 0.1 s, 40 in (0.1, 0.5], 10 in (0.5, 1]
    const buckets = [
      { le: 0.1, count: 50 },
      { le: 0.5, count: 90 },
      { le: 1, count: 100 },
      { le: Infinity, count: 100 },
    ];
    expect(histogramQuantile(0.95, buckets)).toBeCloseTo(0.75);
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.1);
  });
  it("returns the largest finite bound for ranks in +Inf and null without observations", () => {
    expect(histogramQuantile(0.95, [{ le: 1, count: 1 }, { le: Infinity, count: 10 }])).toBe(1);
    expect(histogramQuantile(0.95, [{ le: 1, count: 0 }, { le: Infinity, count: 0 }])).toBeNull();
  });
});

describe("RegistrySource", () => {
  it("measures only the window: rates from snapshots diffed, not counters since boot", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const record = (adapter: string, outcome: string, seconds: number, times = 1) => {
      for (let i = 0; i < times; i++) {
        metrics.requests.inc({ route: "answer", adapter, outcome });
        if (outcome !== "busy") metrics.requestDuration.observe({ adapter }, seconds);
        if (outcome !== "busy") metrics.tokensGenerated.inc({ adapter }, 10);
        if (outcome !== "busy") metrics.answerCpuSeconds.inc({ adapter }, 0.5);
      }
    };
    // Before the window: a long healthy history for the canary that must not dilute the window.
    record("canary-v", "success", 0.05, 1000);
    metrics.feedback.inc({ rating: "up", adapter: "canary-v" }, 500);
    const source = new RegistrySource({ registry: metrics.registry });
    const window = await source.openWindow({ canary: "canary-v", stable: "base" });
    record("canary-v", "success", 0.2, 6);
    record("canary-v", "failure", 3, 4);
    record("canary-v", "busy", 0, 50); // shed before running: counted as busy, not observed, not in the rate
    record("base", "success", 0.05, 10);
    metrics.feedback.inc({ rating: "down", adapter: "canary-v" }, 3);
    metrics.feedback.inc({ rating: "up", adapter: "canary-v" }, 1);
    metrics.feedback.inc({ rating: "up", adapter: "base" }, 4);
    const stats = await window.close();
    expect(stats.canary).toMatchObject({ requests: 10, successes: 6, successRate: 0.6 });
    // 10 observations: 6 in (0.1, 0.25], 4 in (2.5, 5]; rank 9.5 → 2.5 + 2.5 * (9.5 - 6) / 4
    expect(stats.canary.p95Ms).toBeCloseTo(4687.5);
    expect(stats.stable).toMatchObject({ requests: 10, successRate: 1 });
    // tokens, CPU seconds and ratings over the window too: answered turns only (busy turns never ran)
    expect(stats.canary.usage).toEqual({ answers: 10, tokens: 100, cpuSeconds: 5, ratings: { up: 1, down: 3 } });
    expect(stats.stable.usage).toEqual({ answers: 10, tokens: 100, cpuSeconds: 5, ratings: { up: 4, down: 0 } });
    const next = await (await source.openWindow({ canary: "canary-v", stable: "base" })).close();
    expect(next.canary).toEqual({ requests: 0, successes: 0, successRate: null, p95Ms: null, usage: { answers: 0, tokens: 0, cpuSeconds: 0, ratings: { up: 0, down: 0 } } });
  });
});
