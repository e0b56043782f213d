import { silentLogger, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import type { AdapterRegistry } from "./adapter-registry.js";
import { addUsage, adapterLabel, emptyUsage, type AdapterWindowStats, type AnalysisSource, type WindowStats } from "./analysis-source.js";
import { costVerdict, satisfactionVerdict, type CanaryMetricVerdict, type PooledUsage } from "./canary-usage.js";
import type { CanaryState } from "./canary-state.js";
import { FileReleaseStore, type ReleaseStore } from "./release-store.js";
import { rollbackDeployment, type RollbackSummary } from "./rollback.js";

/** Time, injectable so tests drive the controller with `vi.useFakeTimers()`. */
export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    }),
};

export type CanarySettings = Pick<
  CouncilConfig["improve"],
  "canarySteps" | "canaryIntervalSeconds" | "canaryMinRequests" | "canaryMaxErrors" | "canaryDeadlineSeconds" | "rollbackMinSuccess" | "rollbackMaxSuccessDrop" | "rollbackMaxP95Ms" | "webhookUrl"
> &
  /** Absent keys take the config defaults (USAGE_DEFAULTS). */
  Partial<Pick<CouncilConfig["improve"], "canaryMinRatings" | "canaryMaxSatisfactionDrop" | "canaryMaxCostRatio">>;

/** One analysis window's verdict, kept for the run record and rollback_summary.json. */
export interface AnalysisRecord {
  step: number;
  weight: number;
  at: string;
  verdict: "pass" | "hold" | "fail" | "error";
  reason: string;
  stats: WindowStats | null;
  /** Every metric's verdict in this window (success, latency, satisfaction, cost); empty when the analysis failed. */
  metrics: CanaryMetricVerdict[];
  /** Usage pooled over this canary's windows up to this one (what satisfaction and cost were judged on). */
  pooled?: PooledUsage;
}

export type CanaryOutcome =
  | { status: "promoted"; version: string; stable: string | null; analyses: AnalysisRecord[] }
  /** `summary` is null when the canary was stopped from outside (`council rollback` did the rollback and wrote it). */
  | { status: "rolled-back"; version: string; stable: string | null; reason: string; analyses: AnalysisRecord[]; summary: RollbackSummary | null };

export interface CanaryControllerOptions {
  registry: AdapterRegistry;
  /** Where the stable/canary record is written (shared by replicas when it is Postgres). @default FileReleaseStore */
  releases?: ReleaseStore;
  source: AnalysisSource;
  settings: CanarySettings;
  metrics?: Pick<CouncilMetrics, "canaryWeight" | "deployments" | "rollbacks" | "adapterInfo"> & Partial<Pick<CouncilMetrics, "canaryMetricPassed">>;
  logger?: Logger;
  clock?: Clock;
  /** Where rollback_summary.json goes (the run dir). @default loras/ */
  summaryDir?: string;
  /** Called on every weight change, before the state file is written (in-process routers). */
  onState?: (state: CanaryState) => void;
  /** Adapter info `base` label. @default "seedling" */
  base?: string;
}

/**
 * Runs one canary: steps through `canarySteps` (10 → 50 → 100 by default). Each step needs at least one
 * analysis window of `canaryIntervalSeconds` with ≥ `canaryMinRequests` canary requests, a success rate at or
 * above the success floor (see {@link successFloor}) and p95 ≤ `rollbackMaxP95Ms`, all measured over that window
 * only; satisfaction (👍 share) and cost per answer (tokens, CPU seconds) are judged against stable on usage pooled
 * since the canary started (see canary-usage.ts). Missing data or
 * a failed query holds the step; `canaryMaxErrors` consecutive failed queries roll back; so does any failed
 * threshold, and reaching `canaryDeadlineSeconds` without finishing (a canary with no traffic never hangs).
 * After the last step passes, `current` is switched to the canary (promote).
 */
export class CanaryController {
  private readonly options: Required<Omit<CanaryControllerOptions, "metrics" | "summaryDir" | "onState">> & Pick<CanaryControllerOptions, "metrics" | "summaryDir" | "onState">;

  constructor({ logger = silentLogger, clock = systemClock, base = "seedling", registry, releases = new FileReleaseStore({ registry }), ...rest }: CanaryControllerOptions) {
    this.options = { logger, clock, base, registry, releases, ...rest };
  }

  async run({ version, signal }: { version: string; signal?: AbortSignal }): Promise<CanaryOutcome> {
    const { registry, releases, settings, metrics, clock, onState } = this.options;
    const logger = this.options.logger.child({ canary: version });
    await registry.get(version);
    const { version: stable, problem } = await releases.stable();
    if (problem) throw problem;
    const startedAt = clock.now();
    const deadline = startedAt + settings.canaryDeadlineSeconds * 1000;
    const intervalMs = settings.canaryIntervalSeconds * 1000;
    const analyses: AnalysisRecord[] = [];
    if (stable === version) {
      logger.info("canary version is already current; nothing to do");
      return { status: "promoted", version, stable, analyses };
    }
    let state: CanaryState = {
      version,
      stable,
      weight: 0,
      step: 0,
      status: "running",
      startedAt: new Date(startedAt).toISOString(),
      updatedAt: new Date(startedAt).toISOString(),
      reason: null,
    };
    const setState = async (patch: Partial<CanaryState>) => {
      state = { ...state, ...patch, updatedAt: new Date(clock.now()).toISOString() };
      onState?.(state);
      metrics?.canaryWeight.set(state.status === "running" ? state.weight : 0);
      await releases.setCanary(state);
    };
    const rollBack = async (reason: string): Promise<CanaryOutcome> => {
      logger.warn({ reason }, "canary failed; rolling back");
      const summary = await rollbackDeployment({
        registry,
        releases,
        reason,
        metrics,
        logger,
        now: () => new Date(clock.now()),
        onWeightZero: () => onState?.({ ...state, weight: 0, status: "rolled-back", reason }),
        details: { version, stable, analyses },
        base: this.options.base,
        ...(this.options.summaryDir === undefined ? {} : { summaryDir: this.options.summaryDir }),
        ...(settings.webhookUrl === undefined ? {} : { webhookUrl: settings.webhookUrl }),
      });
      return { status: "rolled-back", version, stable, reason, analyses, summary };
    };

    metrics?.deployments.inc();
    const target = { canary: adapterLabel(version), stable: adapterLabel(stable) };
    // Stable's traffic pooled over this canary's windows (and its latest p95): the comparison point when a window
    // has none (100 % step).
    const baseline: { requests: number; successes: number; p95Ms: number | null } = { requests: 0, successes: 0, p95Ms: null };
    // Ratings, tokens and CPU seconds of both sides pooled over every window of this canary.
    const pooled: PooledUsage = { canary: emptyUsage(), stable: emptyUsage() };
    for (const [step, weight] of settings.canarySteps.entries()) {
      await setState({ weight, step });
      logger.info({ step, weight }, "canary step");
      let consecutiveErrors = 0;
      for (;;) {
        if (signal?.aborted) return rollBack("aborted: the canary was cancelled");
        const remaining = deadline - clock.now();
        if (remaining <= 0) return rollBack(`deadline: step ${weight}% not passed within ${settings.canaryDeadlineSeconds}s`);
        const pooledStable: AdapterWindowStats | null = baseline.requests > 0 ? { ...baseline, successRate: baseline.successes / baseline.requests } : null;
        const record = await this.analyseWindow({ target, step, weight, waitMs: Math.min(intervalMs, remaining), signal, baseline: pooledStable, pooled });
        if (record.pooled !== undefined) Object.assign(pooled, record.pooled);
        for (const metric of record.metrics) metrics?.canaryMetricPassed?.set({ metric: metric.metric }, metric.verdict === "pass" ? 1 : metric.verdict === "fail" ? 0 : -1);
        if (record.stats !== null) {
          baseline.requests += record.stats.stable.requests;
          baseline.successes += record.stats.stable.successes;
          baseline.p95Ms = record.stats.stable.p95Ms ?? baseline.p95Ms;
        }
        analyses.push(record);
        logger.info({ step, weight, verdict: record.verdict, reason: record.reason }, "canary analysis");
        if (signal?.aborted) return rollBack("aborted: the canary was cancelled");
        const external = await this.stoppedOutside(state);
        if (external !== null) {
          logger.warn({ reason: external }, "canary stopped outside the controller");
          return { status: "rolled-back", version, stable, reason: external, analyses, summary: null };
        }
        if (record.verdict === "fail") return rollBack(record.reason);
        if (record.verdict === "error") {
          consecutiveErrors += 1;
          if (consecutiveErrors >= settings.canaryMaxErrors) return rollBack(`analysis_errors: ${consecutiveErrors} consecutive failed analyses (${record.reason})`);
          continue;
        }
        consecutiveErrors = 0;
        if (record.verdict === "pass") break;
      }
    }
    await releases.activate(version, { reason: "canary passed every step", action: "promote" });
    if (stable !== null) metrics?.adapterInfo.remove({ version: stable, base: this.options.base });
    metrics?.adapterInfo.set({ version, base: this.options.base }, 1);
    await setState({ status: "promoted", weight: 0, reason: "promoted" });
    logger.info("canary promoted");
    return { status: "promoted", version, stable, analyses };
  }

  /** A `council rollback` (or another controller, on any replica) changed the canary record under us: stop without touching anything. */
  private async stoppedOutside(ours: CanaryState): Promise<string | null> {
    let onDisk: CanaryState | null;
    try {
      onDisk = await this.options.releases.canary();
    } catch (error) {
      this.options.logger.error({ err: error }, "cannot read canary.json; continuing");
      return null;
    }
    if (onDisk === null) return "manual: loras/canary.json was removed";
    if (onDisk.version !== ours.version || onDisk.startedAt !== ours.startedAt) return `manual: another canary (${onDisk.version}) took over`;
    if (onDisk.status !== "running") return `manual: ${onDisk.reason ?? `canary ${onDisk.status} outside the controller`}`;
    return null;
  }

  private async analyseWindow({ target, step, weight, waitMs, signal, baseline, pooled }: { target: { canary: string; stable: string }; step: number; weight: number; waitMs: number; signal: AbortSignal | undefined; baseline: AdapterWindowStats | null; pooled: PooledUsage }): Promise<AnalysisRecord> {
    const { source, settings, clock } = this.options;
    const at = () => new Date(clock.now()).toISOString();
    let window;
    try {
      window = await source.openWindow(target);
    } catch (error) {
      await clock.sleep(waitMs, signal);
      return { step, weight, at: at(), verdict: "error", reason: `${source.name}: ${(error as Error).message}`, stats: null, metrics: [] };
    }
    await clock.sleep(waitMs, signal);
    let stats: WindowStats;
    try {
      stats = await window.close();
    } catch (error) {
      return { step, weight, at: at(), verdict: "error", reason: `${source.name}: ${(error as Error).message}`, stats: null, metrics: [] };
    }
    const withWindow = poolUsage(pooled, stats);
    return { step, weight, at: at(), stats, ...judge(stats, settings, baseline, withWindow), ...(withWindow === null ? {} : { pooled: withWindow }) };
  }
}

/**
 * The success rate a canary must reach in one window. It is the absolute bar `rollbackMinSuccess`, except when
 * the stable adapter itself scores below that bar: then the floor is the stable rate minus
 * `rollbackMaxSuccessDrop`. A canary is rolled back when it is both below the bar and worse than what it would
 * be rolled back to — rolling back a canary that beats stable would make users worse off. Stable's rate comes
 * from the same window when it had at least `canaryMinRequests` requests there, else from `baseline` (stable's
 * traffic pooled over this canary's earlier windows: at the 100 % step stable gets none); with neither, the
 * absolute bar applies.
 */
export function successFloor(stats: WindowStats, settings: Pick<CanarySettings, "canaryMinRequests" | "rollbackMinSuccess" | "rollbackMaxSuccessDrop">, baseline: AdapterWindowStats | null = null): { floor: number; relative: boolean } {
  const enough = (side: AdapterWindowStats | null): side is AdapterWindowStats & { successRate: number } => side !== null && side.successRate !== null && side.requests >= Math.max(1, settings.canaryMinRequests);
  const stable = enough(stats.stable) ? stats.stable : enough(baseline) ? baseline : null;
  if (stable === null) return { floor: settings.rollbackMinSuccess, relative: false };
  const relative = stable.successRate - settings.rollbackMaxSuccessDrop;
  return relative < settings.rollbackMinSuccess ? { floor: relative, relative: true } : { floor: settings.rollbackMinSuccess, relative: false };
}

/** How much slower than stable a canary over `rollbackMaxP95Ms` may be before its latency fails it. */
export const LATENCY_TOLERANCE = 0.1;

/** `pooled` plus this window's usage, or null when the source measured none (then satisfaction and cost give no verdict). */
export function poolUsage(pooled: PooledUsage, stats: WindowStats): PooledUsage | null {
  if (stats.canary.usage === undefined || stats.stable.usage === undefined) return null;
  return { canary: addUsage(pooled.canary, stats.canary.usage), stable: addUsage(pooled.stable, stats.stable.usage) };
}

type JudgeSettings = Pick<CanarySettings, "canaryMinRequests" | "rollbackMinSuccess" | "rollbackMaxSuccessDrop" | "rollbackMaxP95Ms" | "canaryMinRatings" | "canaryMaxSatisfactionDrop" | "canaryMaxCostRatio">;

/**
 * The decision for one window (exported for the docs' worked examples and tests), with every metric's verdict.
 * `baseline`: see {@link successFloor}. `pooled`: both sides' usage over this canary's windows including this one
 * (default: this window's own usage); satisfaction and cost are judged on it. A failed metric fails the window
 * (success, then latency, then satisfaction, then cost); too few canary requests or no latency data hold it;
 * a metric without enough data has no verdict and does not block the step.
 */
export function judge(stats: WindowStats, settings: JudgeSettings, baseline: AdapterWindowStats | null = null, pooled: PooledUsage | null = null): { verdict: "pass" | "hold" | "fail"; reason: string; metrics: CanaryMetricVerdict[] } {
  const traffic = judgeTraffic(stats, settings, baseline);
  const usage = pooled ?? poolUsage({ canary: emptyUsage(), stable: emptyUsage() }, stats);
  const none = (metric: "satisfaction" | "cost"): CanaryMetricVerdict => ({ metric, verdict: "none", reason: "no verdict: the analysis source measures no ratings or cost" });
  const metrics = [...traffic.metrics, usage === null ? none("satisfaction") : satisfactionVerdict(usage, settings), usage === null ? none("cost") : costVerdict(usage, settings)];
  const failed = metrics.find((metric) => metric.verdict === "fail");
  if (failed !== undefined) return { verdict: "fail", reason: failed.reason, metrics };
  return { verdict: traffic.verdict, reason: traffic.reason, metrics };
}

/** Success rate and latency in one window; `verdict` is the window's verdict when no metric fails (judge decides failures). */
function judgeTraffic(stats: WindowStats, settings: JudgeSettings, baseline: AdapterWindowStats | null): { verdict: "pass" | "hold"; reason: string; metrics: CanaryMetricVerdict[] } {
  const { canary, stable } = stats;
  const pooled = stable.successRate === null && baseline !== null && baseline.successRate !== null ? ` (stable ${(baseline.successRate * 100).toFixed(1)}% over ${Math.round(baseline.requests)} requests in earlier windows)` : "";
  const versus = stable.successRate === null ? pooled : ` (stable ${(stable.successRate * 100).toFixed(1)}% over ${Math.round(stable.requests)} requests)`;
  if (canary.requests < Math.max(1, settings.canaryMinRequests) || canary.successRate === null) {
    const reason = `no data: ${Math.round(canary.requests)} canary requests < ${settings.canaryMinRequests} needed`;
    return { verdict: "hold", reason, metrics: [{ metric: "success", verdict: "none", reason }, { metric: "latency", verdict: "none", reason }] };
  }
  const { floor, relative } = successFloor(stats, settings, baseline);
  if (canary.successRate < floor) {
    const bar = relative ? `stable − ${(settings.rollbackMaxSuccessDrop * 100).toFixed(1)} points = ${(floor * 100).toFixed(1)}%` : `${(floor * 100).toFixed(1)}%`;
    const reason = `success_rate: canary ${(canary.successRate * 100).toFixed(1)}% < ${bar}${versus}`;
    return { verdict: "pass", reason, metrics: [{ metric: "success", verdict: "fail", reason }, latencyVerdict(stats, settings, baseline)] };
  }
  const success: CanaryMetricVerdict = { metric: "success", verdict: "pass", reason: `canary ${(canary.successRate * 100).toFixed(1)}% ≥ ${(floor * 100).toFixed(1)}%${versus}` };
  const latency = latencyVerdict(stats, settings, baseline);
  if (latency.verdict === "none") return { verdict: "hold", reason: latency.reason, metrics: [success, latency] };
  if (latency.verdict === "fail") return { verdict: "pass", reason: latency.reason, metrics: [success, latency] };
  const below = canary.successRate < settings.rollbackMinSuccess ? `; below the ${(settings.rollbackMinSuccess * 100).toFixed(1)}% bar but not worse than stable` : "";
  return { verdict: "pass", reason: `canary ${(canary.successRate * 100).toFixed(1)}% success, p95 ${Math.round(canary.p95Ms!)} ms over ${Math.round(canary.requests)} requests${versus}${below}`, metrics: [success, latency] };
}

function latencyVerdict(stats: WindowStats, settings: JudgeSettings, baseline: AdapterWindowStats | null): CanaryMetricVerdict {
  const { canary, stable } = stats;
  if (canary.p95Ms === null) return { metric: "latency", verdict: "none", reason: "no data: canary latency histogram is empty" };
  // Over the bar fails only when the canary is also slower than stable (by more than LATENCY_TOLERANCE): when the
  // machine is slow for everyone, rolling back changes nothing for users (measured: canary 2406 ms, stable 2445 ms).
  const stableP95 = stable.p95Ms ?? baseline?.p95Ms ?? null;
  const notSlowerThanStable = stableP95 !== null && canary.p95Ms <= stableP95 * (1 + LATENCY_TOLERANCE);
  const versusStable = stableP95 === null ? "" : ` (stable p95 ${Math.round(stableP95)} ms)`;
  if (canary.p95Ms > settings.rollbackMaxP95Ms && !notSlowerThanStable) {
    return { metric: "latency", verdict: "fail", reason: `latency: canary p95 ${Math.round(canary.p95Ms)} ms > ${settings.rollbackMaxP95Ms} ms${versusStable}` };
  }
  return { metric: "latency", verdict: "pass", reason: `canary p95 ${Math.round(canary.p95Ms)} ms${versusStable}` };
}
