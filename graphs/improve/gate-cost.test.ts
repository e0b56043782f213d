import { describe, expect, it } from "vitest";
import { runGate, type AnswerPort } from "./gate.js";
import { withCanaryVerdicts } from "./gate-canary.js";
import type { EvalCase } from "./types.js";

const target: EvalCase[] = [{ id: "t1", question: "extract a tar", accept: ["tar"] }];
const holdout: EvalCase[] = [
  { id: "h1", question: "list files", accept: ["ls"] },
  { id: "h2", question: "show disk usage", accept: ["df"] },
];
const RIGHT: Record<string, string> = { "list files": "ls -la", "show disk usage": "df -h", "extract a tar": "tar -xf a.tar" };

type Side = { tokens?: number; pad?: number; latencyMs: number; cpuSeconds?: number };
/** Both sides answer the holdout right; only the candidate knows tonight's target. Size and latency fixed per side. */
function answerer({ candidate, current }: { candidate: Side; current: Side }): AnswerPort {
  return {
    answer: async ({ question, adapterPath }) => {
      const isCandidate = adapterPath === "cand.gguf";
      const side = isCandidate ? candidate : current;
      const right = isCandidate || question !== "extract a tar" ? RIGHT[question]! : "I do not know";
      return { text: right + " ".repeat(side.pad ?? 0), latencyMs: side.latencyMs, ...(side.tokens === undefined ? {} : { tokens: side.tokens }), ...(side.cpuSeconds === undefined ? {} : { cpuSeconds: side.cpuSeconds }) };
    },
  };
}

const gate = (answer: AnswerPort, maxCostRatio?: number) =>
  runGate({ suites: { target, holdout, regression: [], safety: [] }, answer, candidatePath: "cand.gguf", currentPath: null, minSuccessDelta: 0.03, maxLatencyRatio: 10, ...(maxCostRatio === undefined ? {} : { maxCostRatio }) });

describe("gate: cost per answer", () => {
  it("records tokens and latency per answer for candidate and current, and passes within 1.5 × current + 16 tokens", async () => {
    const report = await gate(answerer({ candidate: { tokens: 40, latencyMs: 30 }, current: { tokens: 20, latencyMs: 20 } }));
    expect(report.passed).toBe(true);
    expect(report.cost).toMatchObject({ unit: "tokens", candidate: { answers: 3, perAnswer: 40, latencyMsPerAnswer: 30 }, current: { answers: 3, perAnswer: 20, latencyMsPerAnswer: 20 }, compared: { cases: 2, candidate: 40, current: 20 }, ratio: 2, maxRatio: 1.5, passed: true });
    expect(report.cost!.reason).toBe("40.0 tokens and 30 ms per answer vs current 20.0 tokens and 20 ms; on the 2 case(s) both answer right: 40.0 vs 20.0 tokens (ratio 2.00 ≤ 1.5)");
  });

  it("fails the gate when the candidate's right answers cost more than the bar, naming the numbers; the bar is configurable", async () => {
    const costly = answerer({ candidate: { tokens: 60, latencyMs: 30 }, current: { tokens: 20, latencyMs: 20 } });
    const report = await gate(costly);
    expect(report.passed).toBe(false);
    expect(report.cost).toMatchObject({ ratio: 3, passed: false });
    expect(report.reasons).toEqual(["cost: 60.0 tokens and 30 ms per answer vs current 20.0 tokens and 20 ms; on the 2 case(s) both answer right: 60.0 vs 20.0 tokens, more than 1.5 × current + 16 tokens"]);
    expect((await gate(costly, 3)).passed).toBe(true);
  });

  it("measures characters when the answer port reports no tokens, and compares only cases both answer right", async () => {
    const report = await gate(answerer({ candidate: { pad: 100, latencyMs: 5 }, current: { latencyMs: 5 } }));
    // holdout: "ls -la" + 100 spaces vs "ls -la", "df -h" + 100 vs "df -h"; the target's short wrong answer is not compared
    expect(report.cost).toMatchObject({ unit: "characters", compared: { cases: 2, candidate: 105.5, current: 5.5 }, passed: false });
    expect(report.reasons[0]).toMatch(/^cost: .* more than 1.5 × current \+ 64 characters$/);
  });

  it("does not fail an adapter whose only right answers replace wrong ones (nothing like for like to compare)", async () => {
    const report = await runGate({ suites: { target, holdout: [], regression: [], safety: [] }, answer: answerer({ candidate: { tokens: 200, latencyMs: 5 }, current: { tokens: 3, latencyMs: 5 } }), candidatePath: "cand.gguf", currentPath: null, minSuccessDelta: 0.03, maxLatencyRatio: 10 });
    expect(report.passed).toBe(true);
    expect(report.cost).toMatchObject({ compared: { cases: 0 }, ratio: null, passed: true });
    expect(report.cost!.reason).toContain("no case both answer right, nothing to compare");
  });
});

describe("gate: an adapter that is right but 2× more expensive is blocked", () => {
  const verdicts = (report: Awaited<ReturnType<typeof gate>>) => Object.fromEntries(report.metrics!.map((m) => [m.metric, m.passed]));

  it("blocks 2× the tokens per answer: every quality metric passes, cost fails, and gate.json's metrics say which", async () => {
    const report = await gate(answerer({ candidate: { tokens: 80, cpuSeconds: 0.4, latencyMs: 20 }, current: { tokens: 40, cpuSeconds: 0.4, latencyMs: 20 } }));
    expect(report.passed).toBe(false);
    expect(verdicts(report)).toEqual({ target: true, holdout: true, regression: null, safety: null, latency: true, cost: false, satisfaction: null });
    // each verdict carries what it measured, candidate vs current, and the bar it was held to
    expect(report.metrics!.find((m) => m.metric === "cost")).toMatchObject({ candidate: 80, current: 40, unit: "tokens", bar: "≤ 1.5 × current + 16 tokens per answer, CPU ≤ 1.5 × current + 0.05 s" });
    expect(report.metrics!.find((m) => m.metric === "target")).toMatchObject({ candidate: 1, current: 0, unit: "share", bar: "≥ current + 3.0 points" });
    expect(report.metrics!.find((m) => m.metric === "latency")).toMatchObject({ candidate: 20, current: 20, unit: "ms", bar: "p95 ≤ 10 × current + 25 ms" });
    expect(report.reasons).toEqual([expect.stringMatching(/^cost: .*80\.0 vs 40\.0 tokens, more than 1\.5 × current \+ 16 tokens; CPU 0\.400 vs 0\.400 s per answer \(ratio 1\.00 ≤ 1\.5\)$/)]);
  });

  it("blocks 2× the CPU seconds per answer with the same tokens", async () => {
    const report = await gate(answerer({ candidate: { tokens: 40, cpuSeconds: 0.8, latencyMs: 20 }, current: { tokens: 40, cpuSeconds: 0.4, latencyMs: 20 } }));
    expect(report.passed).toBe(false);
    expect(report.cost).toMatchObject({ ratio: 1, cpu: { compared: { cases: 2, candidate: 0.8, current: 0.4 }, ratio: 2, slack: 0.05, passed: false }, passed: false });
    expect(report.cost!.candidate.cpuSecondsPerAnswer).toBeCloseTo(0.8);
    expect(report.reasons[0]).toMatch(/; CPU 0\.800 vs 0\.400 s per answer, more than 1\.5 × current \+ 0\.05 s$/);
    expect(verdicts(report).cost).toBe(false);
  });

  it("passes the same adapter at equal cost, and within the configured bar", async () => {
    const same = await gate(answerer({ candidate: { tokens: 40, cpuSeconds: 0.4, latencyMs: 20 }, current: { tokens: 40, cpuSeconds: 0.4, latencyMs: 20 } }));
    expect(same.passed).toBe(true);
    expect(verdicts(same).cost).toBe(true);
    expect((await gate(answerer({ candidate: { tokens: 80, cpuSeconds: 0.8, latencyMs: 20 }, current: { tokens: 40, cpuSeconds: 0.4, latencyMs: 20 } }), 2)).passed).toBe(true);
  });

  it("records satisfaction as no verdict offline; the canary's last window fills it in", async () => {
    const report = await gate(answerer({ candidate: { tokens: 40, latencyMs: 20 }, current: { tokens: 40, latencyMs: 20 } }));
    expect(report.metrics!.find((m) => m.metric === "satisfaction")).toEqual({ metric: "satisfaction", passed: null, reason: "no verdict offline: the canary judges 👍 share against stable on live traffic", bar: "canary 👍 share vs stable" });
    const failed = { metric: "satisfaction", verdict: "fail" as const, reason: "satisfaction: canary 👍 35.0% of 20 ratings, stable 👍 87.5% of 40: more than 10.0 points lower", canary: 0.35, stable: 0.875 };
    const window = { step: 0, weight: 10, at: "2026-12-06T02:00:00.000Z", verdict: "fail", reason: failed.reason, metrics: [{ metric: "success", verdict: "pass" as const, reason: "ok" }, failed] };
    const after = withCanaryVerdicts(report, { outcome: "rolled-back", reason: failed.reason, windows: [window] });
    expect(after.metrics!.find((m) => m.metric === "satisfaction")).toEqual({ metric: "satisfaction", passed: false, reason: `canary: ${failed.reason}`, candidate: 0.35, current: 0.875, unit: "share", bar: "canary 👍 share vs stable" });
    expect(after.canary).toEqual({ outcome: "rolled-back", reason: failed.reason, windows: 1, metrics: window.metrics });
    expect(after.metrics!.filter((m) => m.metric !== "satisfaction")).toEqual(report.metrics!.filter((m) => m.metric !== "satisfaction"));
  });
});
