import { describe, expect, it } from "vitest";
import { check, CHECKS, summarize, type PerfSectionResult } from "./index.js";
import { percentile } from "./stats.js";

describe("bench perf judging", () => {
  it("checks measured values against max / min targets; missing or non-finite values are not met", () => {
    expect(check("p50", 1.5, "max", 2, "ms")).toMatchObject({ measured: 1.5, met: true });
    expect(check("p50", 2.5, "max", 2, "ms")).toMatchObject({ met: false });
    expect(check("recall", 0.95, "min", 0.95, "ratio")).toMatchObject({ met: true });
    expect(check("recall", 0.9, "min", 0.95, "ratio")).toMatchObject({ met: false });
    expect(check("x", undefined, "max", 1, "ms")).toMatchObject({ measured: null, met: false });
    expect(check("x", Number.NaN, "min", 1, "ms")).toMatchObject({ measured: null, met: false });
  });

  it("reads each section's targets out of its measurement", () => {
    const memory = CHECKS.memory({ results: [{ entries: 1_000_000, p50_ms: 4.7, recall_at_10: 0.977, main_thread_busy_ms_per_search: 3.5 }] });
    expect(memory.map((c) => [c.name, c.met])).toEqual([
      ["memory search p50 at 1000000", false],
      ["memory recall@10 at 1000000", true],
      ["main thread blocked per search at 1000000", true],
    ]);
    expect(CHECKS.swap({ failedRequests: 0, msUntilServed: { max: 187 } }).every((c) => c.met)).toBe(true);
    expect(CHECKS.swap({ failedRequests: 2, msUntilServed: { max: 1500 } }).some((c) => c.met)).toBe(false);
    expect(CHECKS.rollback({ msUntilAllOnStable: { max: 2900 }, limitMs: 3000 })[0]).toMatchObject({ met: true, target: 3000 });
    expect(CHECKS.rollback({ msUntilAllOnStable: { max: 3100 }, limitMs: 3000 })[0]!.met).toBe(false);
    expect(CHECKS.ws({ results: { lost: 0, outOfOrder: 1 } }).map((c) => c.met)).toEqual([true, false]);
    expect(CHECKS.turn({ council: { heuristic: { overheadRatio: { p50: 0.104 } } } })[0]).toMatchObject({ measured: 0.104, met: false });
    expect(CHECKS.tokens({ decodeRatio: 0.93 })[0]).toMatchObject({ met: true, target: 0.9 });
    // a measurement without the fields is reported as not met, never as passed
    expect(CHECKS.tokens({})[0]).toMatchObject({ measured: null, met: false });
  });

  it("summarizes checks met and sections that failed to run", () => {
    const sections: PerfSectionResult[] = [
      { section: "swap", seconds: 1, checks: [check("a", 0, "max", 0, "n"), check("b", 2000, "max", 1000, "ms")], details: {} },
      { section: "ws", seconds: 1, checks: [], details: null, error: "boom" },
    ];
    expect(summarize(sections)).toEqual({ checks: 2, met: 1, failedSections: ["ws"] });
  });

  it("takes nearest-rank percentiles", () => {
    expect(percentile([5, 1, 4, 2, 3], 0.5)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 0.99)).toBe(5);
    expect(percentile([7], 0.5)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });
});
