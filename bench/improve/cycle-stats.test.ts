import { describe, expect, it } from "vitest";
import { cycleResult, regressionKept, repeatFailureRate, successRate } from "./cycle-stats.js";

const day = (entries: Record<string, boolean>) => new Map(Object.entries(entries));

describe("per-cycle arithmetic (hand-checked)", () => {
  // Yesterday: a b c pass, d e f g fail. Today: a b pass, c fails (a regression); d e now pass, f g fail again.
  const yesterday = day({ a: true, b: true, c: true, d: false, e: false, f: false, g: false });
  const today = day({ a: true, b: true, c: false, d: true, e: true, f: false, g: false, h: true });

  it("success is the share of items that passed", () => {
    expect(successRate(yesterday)).toBeCloseTo(3 / 7);
    expect(successRate(today)).toBeCloseTo(5 / 8);
    expect(successRate(day({}))).toBe(0);
  });

  it("repeat-failure rate: of yesterday's 4 failures, 2 (f, g) fail again", () => {
    expect(repeatFailureRate({ yesterday, today })).toBe(0.5);
  });

  it("regression kept: of yesterday's 3 passes, 2 (a, b) still pass", () => {
    expect(regressionKept({ yesterday, today })).toBeCloseTo(2 / 3);
  });

  it("items not asked today are left out; no failures yesterday → 0 repeats, no passes → 1 kept", () => {
    expect(repeatFailureRate({ yesterday: day({ x: false, y: false }), today: day({ x: false }) })).toBe(1);
    expect(repeatFailureRate({ yesterday: day({ x: true }), today: day({ x: false }) })).toBe(0);
    expect(regressionKept({ yesterday: day({ x: false }), today: day({ x: false }) })).toBe(1);
  });

  it("builds the results.json row", () => {
    expect(cycleResult({ cycle: 1, yesterday, today, evalDay: day({ e1: true, e2: false }), harvested: 4, accepted: 3, trainingSeconds: 12.345, cycleSeconds: 99.96 })).toEqual({
      cycle: 1,
      traffic_success: 5 / 8,
      repeat_failure_rate: 0.5,
      regression_kept: 2 / 3,
      eval_success: 0.5,
      harvested: 4,
      accepted: 3,
      training_seconds: 12.3,
      cycle_seconds: 100,
    });
  });
});
