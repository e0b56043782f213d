import type { AdapterUsage } from "./analysis-source.js";

/** The metrics a canary window judges; each gets its own verdict in the analysis record. */
export type CanaryMetric = "success" | "latency" | "satisfaction" | "cost";

/** One metric's verdict in one window. `none`: not enough data to judge (it neither passes nor blocks the step). */
export interface CanaryMetricVerdict {
  metric: CanaryMetric;
  verdict: "pass" | "fail" | "none";
  reason: string;
  /** The measured values, canary vs stable (satisfaction: 👍 share, 0-1), when judged. */
  canary?: number;
  stable?: number;
}

/** Canary and stable usage pooled over every window of this canary so far (ratings are rare: one window has few). */
export interface PooledUsage {
  canary: AdapterUsage;
  stable: AdapterUsage;
}

export interface UsageSettings {
  /** Answers each side needs before cost is judged (the canary's request minimum). */
  canaryMinRequests: number;
  /** 👍 + 👎 ratings each side needs before satisfaction is judged. @default 20 */
  canaryMinRatings?: number;
  /** The canary's 👍 share may be at most this far below stable's. @default 0.1 */
  canaryMaxSatisfactionDrop?: number;
  /** Canary tokens and CPU seconds per answer ≤ ratio × stable's (+ {@link CANARY_COST_SLACK}). @default 1.5 */
  canaryMaxCostRatio?: number;
}

/** The config defaults (core/config.ts), for callers that pass settings without these keys. */
export const USAGE_DEFAULTS = { canaryMinRatings: 20, canaryMaxSatisfactionDrop: 0.1, canaryMaxCostRatio: 1.5 } as const;

/** Absolute allowance per answer on top of the cost ratio, so a few tokens or timer noise on short answers cannot fail a canary. */
export const CANARY_COST_SLACK = { tokens: 16, cpuSeconds: 0.05 } as const;

const pct = (value: number) => `${(value * 100).toFixed(1)}%`;
const count = (value: number) => String(Math.round(value));

/**
 * Satisfaction: the 👍 share (👍 / (👍 + 👎)) of the canary vs stable, over ratings pooled since the canary
 * started. No verdict until each side has `canaryMinRatings`; fails when the canary's share is lower than stable's
 * by more than `canaryMaxSatisfactionDrop`.
 */
export function satisfactionVerdict(pooled: PooledUsage, settings: UsageSettings): CanaryMetricVerdict {
  const minRatings = settings.canaryMinRatings ?? USAGE_DEFAULTS.canaryMinRatings;
  const maxDrop = settings.canaryMaxSatisfactionDrop ?? USAGE_DEFAULTS.canaryMaxSatisfactionDrop;
  const rated = (usage: AdapterUsage) => usage.ratings.up + usage.ratings.down;
  const [canaryRatings, stableRatings] = [rated(pooled.canary), rated(pooled.stable)];
  if (canaryRatings < Math.max(1, minRatings) || stableRatings < Math.max(1, minRatings)) {
    return { metric: "satisfaction", verdict: "none", reason: `no verdict: ${count(canaryRatings)} canary and ${count(stableRatings)} stable ratings, ${minRatings} needed per side` };
  }
  const canaryShare = pooled.canary.ratings.up / canaryRatings;
  const stableShare = pooled.stable.ratings.up / stableRatings;
  const versus = `canary 👍 ${pct(canaryShare)} of ${count(canaryRatings)} ratings, stable 👍 ${pct(stableShare)} of ${count(stableRatings)}`;
  const values = { canary: canaryShare, stable: stableShare };
  if (canaryShare < stableShare - maxDrop - 1e-9) return { metric: "satisfaction", verdict: "fail", reason: `satisfaction: ${versus}: more than ${(maxDrop * 100).toFixed(1)} points lower`, ...values };
  return { metric: "satisfaction", verdict: "pass", reason: versus, ...values };
}

/**
 * Cost per answer: tokens generated and process CPU seconds per answer, canary vs stable, pooled since the canary
 * started. No verdict until each side has `canaryMinRequests` answers; fails when either is above
 * `canaryMaxCostRatio` × stable's + {@link CANARY_COST_SLACK}.
 */
export function costVerdict(pooled: PooledUsage, settings: UsageSettings): CanaryMetricVerdict {
  const ratio = settings.canaryMaxCostRatio ?? USAGE_DEFAULTS.canaryMaxCostRatio;
  const minAnswers = Math.max(1, settings.canaryMinRequests);
  const { canary, stable } = pooled;
  if (canary.answers < minAnswers || stable.answers < minAnswers) {
    return { metric: "cost", verdict: "none", reason: `no verdict: ${count(canary.answers)} canary and ${count(stable.answers)} stable answers, ${minAnswers} needed per side` };
  }
  const per = (usage: AdapterUsage) => ({ tokens: usage.tokens / usage.answers, cpuSeconds: usage.cpuSeconds / usage.answers });
  const [c, s] = [per(canary), per(stable)];
  const versus = `canary ${c.tokens.toFixed(1)} tokens and ${c.cpuSeconds.toFixed(3)} CPU-s per answer, stable ${s.tokens.toFixed(1)} tokens and ${s.cpuSeconds.toFixed(3)} CPU-s`;
  const over = [
    ...(c.tokens > ratio * s.tokens + CANARY_COST_SLACK.tokens ? [`tokens over ${ratio} × stable + ${CANARY_COST_SLACK.tokens}`] : []),
    ...(c.cpuSeconds > ratio * s.cpuSeconds + CANARY_COST_SLACK.cpuSeconds ? [`CPU-s over ${ratio} × stable + ${CANARY_COST_SLACK.cpuSeconds}`] : []),
  ];
  if (over.length > 0) return { metric: "cost", verdict: "fail", reason: `cost: ${versus}: ${over.join(", ")}` };
  return { metric: "cost", verdict: "pass", reason: versus };
}
