import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createMetrics, type CouncilMetrics } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import type { AdapterWindowStats, AnalysisSource, AnalysisTarget, WindowStats } from "./analysis-source.js";
import { CanaryController, judge, successFloor, type CanarySettings } from "./canary-controller.js";
import { readCanaryState, type CanaryState } from "./canary-state.js";
import { writeTestAdapter } from "./test-adapter.js";

/** Replays scripted windows in order; throws when the controller asks for one more than scripted. */
class FakeAnalysisSource implements AnalysisSource {
  readonly name = "fake";
  readonly opened: AnalysisTarget[] = [];
  constructor(private readonly script: Array<WindowStats | Error>) {}
  async openWindow(target: AnalysisTarget) {
    this.opened.push(target);
    const next = this.script.shift();
    if (next === undefined) throw new Error(`unscripted window #${this.opened.length}`);
    return {
      close: async () => {
        if (next instanceof Error) throw next;
        return next;
      },
    };
  }
}

const side = (requests: number, successRate: number, p95Ms: number | null): AdapterWindowStats => ({ requests, successes: Math.round(requests * successRate), successRate: requests ? successRate : null, p95Ms: requests ? p95Ms : null });
const window = (canary: AdapterWindowStats, stable = side(100, 0.9, 300)): WindowStats => ({ canary, stable, windowSeconds: 60 });
const good = () => window(side(40, 0.95, 400));
const empty = () => window(side(0, 0, null));

const settings: CanarySettings = {
  canarySteps: [10, 50, 100],
  canaryIntervalSeconds: 60,
  canaryMinRequests: 20,
  canaryMaxErrors: 3,
  canaryDeadlineSeconds: 3600,
  rollbackMinSuccess: 0.85,
  rollbackMaxSuccessDrop: 0.05,
  rollbackMaxP95Ms: 1000,
};

let root: string;
let registry: AdapterRegistry;
let metrics: CouncilMetrics;
let stable: string;
let canary: string;
let states: CanaryState[];

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

/** Runs the controller to completion, firing fake timers one at a time and letting real fs I/O finish between. */
async function drive<T>(promise: Promise<T>): Promise<T> {
  let settled = false;
  const done = promise.finally(() => {
    settled = true;
  });
  const realStart = performance.now();
  while (!settled && performance.now() - realStart < 8000) {
    await new Promise((resolve) => setImmediate(resolve));
    if (!settled && vi.getTimerCount() > 0) await vi.advanceTimersToNextTimerAsync();
  }
  return done;
}

function controller(source: AnalysisSource, overrides: Partial<CanarySettings> = {}, summaryDir?: string) {
  return new CanaryController({ registry, source, settings: { ...settings, ...overrides }, metrics, onState: (state) => states.push(state), ...(summaryDir ? { summaryDir } : {}) });
}

beforeEach(async () => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: new Date("2026-11-22T02:00:00Z") });
  root = await mkdtemp(join(tmpdir(), "council-canary-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
  metrics = createMetrics({ defaultMetrics: false });
  stable = await publish("stable");
  canary = await publish("canary");
  await registry.activate(stable, { reason: "setup" });
  states = [];
});
afterEach(async () => {
  vi.useRealTimers();
  await rm(root, { recursive: true, force: true });
});

const weights = () => [...new Set(states.filter((s) => s.status === "running").map((s) => s.weight))];
const counter = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values;

describe("CanaryController", () => {
  it("at the 100 % step (no stable traffic) compares with stable pooled over the earlier windows", async () => {
    // Stable answers 20 % (below the 0.85 bar); the canary answers 40 %: better than stable, so it is promoted
    // even though the last window has no stable traffic to compare with.
    const low = (canaryRequests: number, stableRequests: number) => window(side(canaryRequests, 0.4, 400), side(stableRequests, 0.2, 400));
    const outcome = await drive(controller(new FakeAnalysisSource([low(30, 270), low(150, 150), low(300, 0)])).run({ version: canary }));
    expect(outcome.status).toBe("promoted");
    expect(outcome.analyses.at(-1)?.reason).toContain("stable 20.0% over 420 requests in earlier windows");
  });
  it("rolls back at the 100 % step when the canary is worse than stable pooled over the earlier windows", async () => {
    const script = [window(side(50, 0.58, 400), side(250, 0.6, 400)), window(side(150, 0.58, 400), side(150, 0.6, 400)), window(side(300, 0.3, 400), side(0, 0, null))];
    const outcome = await drive(controller(new FakeAnalysisSource(script)).run({ version: canary }));
    expect(outcome.status).toBe("rolled-back");
    expect(outcome.analyses.map((a) => a.verdict)).toEqual(["pass", "pass", "fail"]);
    expect(outcome.status === "rolled-back" && outcome.reason).toContain("stable − 5.0 points = 55.0%");
    expect(await registry.current()).toBe(stable);
  });
  it("at the 100 % step judges latency against stable's latest p95 from the earlier windows", async () => {
    // everything is slow (over the 1000 ms bar), the canary no slower than stable: promoted
    const slow = (canaryRequests: number, stableRequests: number, stableP95: number | null) => window(side(canaryRequests, 1, 2400), side(stableRequests, 1, stableP95 ?? 0));
    const promoted = await drive(controller(new FakeAnalysisSource([slow(30, 270, 2450), slow(150, 150, 2450), slow(300, 0, null)])).run({ version: canary }));
    expect(promoted.status).toBe("promoted");
  });
  it("rolls back a canary over the latency bar and >10 % slower than stable", async () => {
    const script = [window(side(30, 1, 3000), side(270, 1, 2000))];
    const rolledBack = await drive(controller(new FakeAnalysisSource(script)).run({ version: canary }));
    expect(rolledBack.status === "rolled-back" && rolledBack.reason).toBe("latency: canary p95 3000 ms > 1000 ms (stable p95 2000 ms)");
  });
  it("steps 10 → 50 → 100 over healthy windows, then promotes", async () => {
    const source = new FakeAnalysisSource([good(), good(), good()]);
    const start = Date.now();
    const outcome = await drive(controller(source).run({ version: canary }));
    expect(outcome.status).toBe("promoted");
    expect(weights()).toEqual([10, 50, 100]);
    expect(Date.now() - start).toBe(3 * 60_000);
    expect(source.opened[0]).toEqual({ canary, stable });
    expect(await registry.current()).toBe(canary);
    expect(await registry.previous()).toBe(stable);
    expect((await readCanaryState(registry.paths.loras))?.status).toBe("promoted");
    expect((await counter("council_deployments_total"))[0]?.value).toBe(1);
    expect((await counter("council_canary_weight"))[0]?.value).toBe(0);
    expect((await counter("council_adapter_info")).map((v) => v.labels.version)).toEqual([canary]);
  });

  it("rolls back within one interval when the canary's success rate drops, leaving stable current", async () => {
    const source = new FakeAnalysisSource([good(), window(side(40, 0.6, 300))]);
    const outcome = await drive(controller(source, {}, root).run({ version: canary }));
    expect(outcome.status).toBe("rolled-back");
    if (outcome.status !== "rolled-back") return;
    expect(outcome.reason).toMatch(/^success_rate: canary 60.0% < 85.0% \(stable 90.0%/);
    expect(states.at(-1)).toMatchObject({ weight: 0, status: "rolled-back" });
    expect(await registry.current()).toBe(stable);
    const file = await readCanaryState(registry.paths.loras);
    expect(file).toMatchObject({ weight: 0, status: "rolled-back" });
    const summary = JSON.parse(await readFile(join(root, "rollback_summary.json"), "utf8"));
    expect(summary).toMatchObject({ removed: canary, restored: stable, canaryWeightBefore: 50, webhook: "not-configured" });
    expect((await counter("council_rollbacks_total"))[0]).toMatchObject({ labels: { reason: "success_rate" }, value: 1 });
  });

  it("rolls back on p95 latency above the limit", async () => {
    const outcome = await drive(controller(new FakeAnalysisSource([window(side(40, 1, 2500))])).run({ version: canary }));
    expect(outcome.status === "rolled-back" && outcome.reason).toMatch(/^latency: canary p95 2500 ms > 1000 ms/);
  });

  it("holds a step without enough canary requests and never promotes on missing data", async () => {
    const source = new FakeAnalysisSource([empty(), window(side(5, 1, 100)), good(), good(), good()]);
    const outcome = await drive(controller(source).run({ version: canary }));
    expect(outcome.status).toBe("promoted");
    expect(outcome.analyses.map((a) => a.verdict)).toEqual(["hold", "hold", "pass", "pass", "pass"]);
    expect(outcome.analyses.filter((a) => a.weight === 10)).toHaveLength(3);
  });

  it("holds on query errors and rolls back after canaryMaxErrors consecutive ones", async () => {
    const fail = () => new Error("PROMETHEUS_UNAVAILABLE");
    const recovered = await drive(controller(new FakeAnalysisSource([fail(), fail(), good(), fail(), fail(), good(), good()])).run({ version: canary }));
    expect(recovered.status).toBe("promoted");
    await registry.rollback({ reason: "reset" });
    const outcome = await drive(controller(new FakeAnalysisSource([good(), fail(), fail(), fail()])).run({ version: canary }));
    expect(outcome.status === "rolled-back" && outcome.reason).toMatch(/^analysis_errors: 3 consecutive/);
    expect(await registry.current()).toBe(stable);
  });

  it("ends a canary with no traffic by the deadline with a rollback", async () => {
    const source = new FakeAnalysisSource(Array.from({ length: 100 }, empty));
    const start = Date.now();
    const outcome = await drive(controller(source, { canaryDeadlineSeconds: 150 }).run({ version: canary }));
    expect(outcome.status === "rolled-back" && outcome.reason).toMatch(/^deadline/);
    expect(Date.now() - start).toBe(150_000);
    expect(source.opened).toHaveLength(3);
    expect(await registry.current()).toBe(stable);
  });

  it("rolls back when cancelled", async () => {
    const abort = new AbortController();
    const source = new FakeAnalysisSource([good(), good(), good()]);
    const run = controller(source).run({ version: canary, signal: abort.signal });
    setTimeout(() => abort.abort(), 90_000);
    const outcome = await drive(run);
    expect(outcome.status === "rolled-back" && outcome.reason).toMatch(/^aborted/);
  });
});

describe("CanaryController with an operator rollback", () => {
  it("stops without a second rollback when canary.json is rolled back from outside", async () => {
    const { rollbackDeployment } = await import("./rollback.js");
    // The operator runs `council rollback` while the first window is open.
    const source: AnalysisSource = {
      name: "fake",
      openWindow: async () => ({
        close: async () => {
          await rollbackDeployment({ registry, reason: "manual: operator" });
          return good();
        },
      }),
    };
    const run = controller(source).run({ version: canary });
    const outcome = await drive(run);
    expect(outcome).toMatchObject({ status: "rolled-back", reason: "manual: manual: operator", summary: null });
    expect(await registry.current()).toBe(stable);
    expect((await readCanaryState(registry.paths.loras))?.weight).toBe(0);
  });
});

describe("judge", () => {
  it("holds when the latency histogram is empty even with enough requests", () => {
    expect(judge(window({ requests: 30, successes: 30, successRate: 1, p95Ms: null }), settings).verdict).toBe("hold");
  });
  it("fails latency over the bar only when the canary is also slower than stable", () => {
    // the whole machine is slow: canary over the bar but no slower than stable → not the adapter's doing
    expect(judge(window(side(40, 1, 2406), side(100, 1, 2445)), settings).verdict).toBe("pass");
    expect(judge(window(side(40, 1, 2600), side(100, 1, 2445)), settings).verdict).toBe("pass"); // +6 %, within 10 %
    const slower = judge(window(side(40, 1, 2800), side(100, 1, 2445)), settings);
    expect(slower).toMatchObject({ verdict: "fail", reason: "latency: canary p95 2800 ms > 1000 ms (stable p95 2445 ms)" });
    // no stable latency in the window: the pooled baseline, else the absolute bar
    expect(judge(window(side(40, 1, 2406), side(0, 0, null)), settings, side(300, 1, 2445)).verdict).toBe("pass");
    expect(judge(window(side(40, 1, 2406), side(0, 0, null)), settings).verdict).toBe("fail");
  });
  it("passes exactly at the thresholds", () => {
    expect(judge(window(side(20, 0.85, 1000)), settings).verdict).toBe("pass");
  });
  it("fails a canary below the bar when stable is above it", () => {
    const verdict = judge(window(side(40, 0.84, 300), side(100, 0.99, 300)), settings);
    expect(verdict).toMatchObject({ verdict: "fail" });
    expect(verdict.reason).toContain("< 85.0%");
  });
  it("lets a canary below the bar pass when it is not worse than a stable that is below the bar too", () => {
    const verdict = judge(window(side(40, 0.6, 300), side(100, 0.2, 300)), settings);
    expect(verdict.verdict).toBe("pass");
    expect(verdict.reason).toContain("not worse than stable");
    expect(judge(window(side(40, 0.16, 300), side(100, 0.2, 300)), settings).verdict).toBe("pass");
  });
  it("fails a canary more than rollbackMaxSuccessDrop below a stable that is under the bar", () => {
    const verdict = judge(window(side(40, 0.14, 300), side(100, 0.2, 300)), settings);
    expect(verdict.verdict).toBe("fail");
    expect(verdict.reason).toContain("stable − 5.0 points = 15.0%");
  });
  it("uses the absolute bar when stable has too few requests to compare with", () => {
    expect(judge(window(side(40, 0.6, 300), side(5, 0.2, 300)), settings).verdict).toBe("fail");
    expect(judge(window(side(40, 0.6, 300), side(0, 0, null)), settings).verdict).toBe("fail");
    expect(successFloor(window(side(40, 0.6, 300), side(100, 0.99, 300)), settings)).toEqual({ floor: 0.85, relative: false });
  });
});

describe("CanaryController: satisfaction and cost per answer", () => {
  /** A healthy window whose sides carry tokens, CPU seconds and ratings. */
  const rated = (canary: { up: number; down: number; tokens?: number }, stableRatings: { up: number; down: number }): WindowStats => ({
    canary: { ...side(40, 0.95, 400), usage: { answers: 40, tokens: 40 * (canary.tokens ?? 40), cpuSeconds: 40 * 0.2, ratings: { up: canary.up, down: canary.down } } },
    stable: { ...side(100, 0.9, 300), usage: { answers: 100, tokens: 100 * 40, cpuSeconds: 100 * 0.2, ratings: stableRatings } },
    windowSeconds: 60,
  });

  it("rolls back a canary whose 👍 share drops once both sides have enough ratings, pooled over its windows", async () => {
    // 10 canary ratings per window: the first window has too few (no verdict, the step passes), the second pools 20.
    const source = new FakeAnalysisSource([rated({ up: 3, down: 7 }, { up: 18, down: 2 }), rated({ up: 4, down: 6 }, { up: 17, down: 3 })]);
    const outcome = await drive(controller(source, { canaryMinRatings: 20 }, root).run({ version: canary }));
    expect(outcome.status).toBe("rolled-back");
    if (outcome.status !== "rolled-back") return;
    expect(outcome.reason).toBe("satisfaction: canary 👍 35.0% of 20 ratings, stable 👍 87.5% of 40: more than 10.0 points lower");
    const [first, second] = outcome.analyses;
    expect(first).toMatchObject({ verdict: "pass", weight: 10 });
    expect(first!.metrics.map((m) => [m.metric, m.verdict])).toEqual([["success", "pass"], ["latency", "pass"], ["satisfaction", "none"], ["cost", "pass"]]);
    expect(second!.metrics.find((m) => m.metric === "satisfaction")?.verdict).toBe("fail");
    expect(second!.pooled?.canary.ratings).toEqual({ up: 7, down: 13 });
    expect(await registry.current()).toBe(stable);
    expect((await counter("council_rollbacks_total"))[0]).toMatchObject({ labels: { reason: "satisfaction" }, value: 1 });
    expect((await counter("council_canary_metric_passed")).map((v) => [v.labels.metric, v.value])).toEqual([["success", 1], ["latency", 1], ["satisfaction", 0], ["cost", 1]]);
    // the analysis record in rollback_summary.json carries every metric's verdict
    const summary = JSON.parse(await readFile(join(root, "rollback_summary.json"), "utf8")) as { details: { analyses: Array<{ metrics: Array<{ metric: string; verdict: string }> }> } };
    expect(summary.details.analyses[1]!.metrics.map((m) => m.verdict)).toEqual(["pass", "pass", "fail", "pass"]);
  });

  it("promotes a canary with too few ratings to judge: satisfaction has no verdict, it does not block", async () => {
    const few = () => rated({ up: 0, down: 2 }, { up: 5, down: 0 });
    const outcome = await drive(controller(new FakeAnalysisSource([few(), few(), few()])).run({ version: canary }));
    expect(outcome.status).toBe("promoted");
    expect(outcome.analyses.map((a) => a.metrics.find((m) => m.metric === "satisfaction")?.verdict)).toEqual(["none", "none", "none"]);
    expect(outcome.analyses.at(-1)!.metrics.find((m) => m.metric === "satisfaction")?.reason).toBe("no verdict: 6 canary and 15 stable ratings, 20 needed per side");
  });

  it("rolls back a canary that answers right but with 2× the tokens per answer", async () => {
    const outcome = await drive(controller(new FakeAnalysisSource([rated({ up: 0, down: 0, tokens: 80 }, { up: 0, down: 0 })])).run({ version: canary }));
    expect(outcome.status === "rolled-back" && outcome.reason).toBe("cost: canary 80.0 tokens and 0.200 CPU-s per answer, stable 40.0 tokens and 0.200 CPU-s: tokens over 1.5 × stable + 16");
    expect((await counter("council_rollbacks_total"))[0]).toMatchObject({ labels: { reason: "cost" } });
  });

  it("records no satisfaction or cost verdict from a source that measures neither", async () => {
    const outcome = await drive(controller(new FakeAnalysisSource([good(), good(), good()])).run({ version: canary }));
    expect(outcome.status).toBe("promoted");
    expect(outcome.analyses[0]!.metrics.slice(2)).toEqual([
      { metric: "satisfaction", verdict: "none", reason: "no verdict: the analysis source measures no ratings or cost" },
      { metric: "cost", verdict: "none", reason: "no verdict: the analysis source measures no ratings or cost" },
    ]);
  });
});
