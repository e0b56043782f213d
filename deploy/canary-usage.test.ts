import { describe, expect, it } from "vitest";
import type { AdapterUsage } from "./analysis-source.js";
import { costVerdict, satisfactionVerdict, type PooledUsage } from "./canary-usage.js";

const usage = ({ answers = 100, tokens = 40, cpu = 0.2, up = 0, down = 0 }: { answers?: number; tokens?: number; cpu?: number; up?: number; down?: number }): AdapterUsage => ({
  answers,
  tokens: tokens * answers,
  cpuSeconds: cpu * answers,
  ratings: { up, down },
});
const pooled = (canary: AdapterUsage, stable: AdapterUsage): PooledUsage => ({ canary, stable });
const settings = { canaryMinRequests: 20, canaryMinRatings: 20, canaryMaxSatisfactionDrop: 0.1, canaryMaxCostRatio: 1.5 };

describe("canary satisfaction (👍 share vs stable)", () => {
  it("gives no verdict until each side has the minimum number of ratings", () => {
    const verdict = satisfactionVerdict(pooled(usage({ up: 0, down: 19 }), usage({ up: 30, down: 0 })), settings);
    expect(verdict).toEqual({ metric: "satisfaction", verdict: "none", reason: "no verdict: 19 canary and 30 stable ratings, 20 needed per side" });
    expect(satisfactionVerdict(pooled(usage({ up: 0, down: 30 }), usage({ up: 19, down: 0 })), settings).verdict).toBe("none");
  });
  it("fails a canary whose 👍 share is lower than stable's by more than the margin, naming both shares", () => {
    const verdict = satisfactionVerdict(pooled(usage({ up: 12, down: 13 }), usage({ up: 24, down: 6 })), settings);
    expect(verdict).toEqual({ metric: "satisfaction", verdict: "fail", reason: "satisfaction: canary 👍 48.0% of 25 ratings, stable 👍 80.0% of 30: more than 10.0 points lower", canary: 0.48, stable: 0.8 });
  });
  it("passes within the margin (exactly at it too) and when the canary is liked more", () => {
    expect(satisfactionVerdict(pooled(usage({ up: 14, down: 6 }), usage({ up: 16, down: 4 })), settings).verdict).toBe("pass"); // 70 % vs 80 %
    expect(satisfactionVerdict(pooled(usage({ up: 13, down: 7 }), usage({ up: 16, down: 4 })), settings).verdict).toBe("fail"); // 65 % vs 80 %
    expect(satisfactionVerdict(pooled(usage({ up: 20, down: 0 }), usage({ up: 10, down: 10 })), settings).verdict).toBe("pass");
  });
  it("takes the margin and the minimum from settings", () => {
    const low = pooled(usage({ up: 3, down: 2 }), usage({ up: 5, down: 0 }));
    expect(satisfactionVerdict(low, settings).verdict).toBe("none");
    expect(satisfactionVerdict(low, { ...settings, canaryMinRatings: 5 }).verdict).toBe("fail");
    expect(satisfactionVerdict(low, { ...settings, canaryMinRatings: 5, canaryMaxSatisfactionDrop: 0.5 }).verdict).toBe("pass");
  });
});

describe("canary cost per answer (tokens and CPU seconds vs stable)", () => {
  it("gives no verdict until each side has canaryMinRequests answers", () => {
    expect(costVerdict(pooled(usage({ answers: 19, tokens: 400 }), usage({})), settings)).toMatchObject({ verdict: "none", reason: "no verdict: 19 canary and 100 stable answers, 20 needed per side" });
    expect(costVerdict(pooled(usage({ tokens: 400 }), usage({ answers: 0 })), settings).verdict).toBe("none");
  });
  it("fails a canary that answers with 2× the tokens per answer", () => {
    const verdict = costVerdict(pooled(usage({ tokens: 80 }), usage({ tokens: 40 })), settings);
    expect(verdict).toEqual({ metric: "cost", verdict: "fail", reason: "cost: canary 80.0 tokens and 0.200 CPU-s per answer, stable 40.0 tokens and 0.200 CPU-s: tokens over 1.5 × stable + 16" });
  });
  it("fails a canary that spends 2× the CPU seconds per answer with the same tokens", () => {
    const verdict = costVerdict(pooled(usage({ cpu: 0.4 }), usage({ cpu: 0.2 })), settings);
    expect(verdict.verdict).toBe("fail");
    expect(verdict.reason).toMatch(/: CPU-s over 1\.5 × stable \+ 0\.05$/);
  });
  it("passes within ratio × stable + slack, and the ratio comes from settings", () => {
    expect(costVerdict(pooled(usage({ tokens: 60, cpu: 0.3 }), usage({ tokens: 40, cpu: 0.2 })), settings)).toMatchObject({ verdict: "pass", reason: "canary 60.0 tokens and 0.300 CPU-s per answer, stable 40.0 tokens and 0.200 CPU-s" });
    // short answers: a few tokens more is within the 16-token slack even at 3×
    expect(costVerdict(pooled(usage({ tokens: 6 }), usage({ tokens: 2 })), settings).verdict).toBe("pass");
    expect(costVerdict(pooled(usage({ tokens: 80, cpu: 0.4 }), usage({ tokens: 40, cpu: 0.2 })), { ...settings, canaryMaxCostRatio: 2 }).verdict).toBe("pass");
  });
});
