/** Traffic of one adapter over an analysis window. Rates are over the window only, never since boot. */
export interface AdapterWindowStats {
  /** Requests counted (outcomes success + failure + error; `busy` is load shedding, not the adapter's doing). */
  requests: number;
  successes: number;
  /** successes / requests, null without requests. */
  successRate: number | null;
  /** 95th percentile turn latency in milliseconds over the window, null without data. */
  p95Ms: number | null;
  /** Cost and ratings over the window (absent from a source that does not measure them: those rules give no verdict). */
  usage?: AdapterUsage;
}

/** What one adapter's answers cost and how users rated them, summed over a window (or pooled over several). */
export interface AdapterUsage {
  /** Turns that produced an answer (outcomes success + failure). */
  answers: number;
  /** Tokens the answerer generated (`council_tokens_generated_total`). */
  tokens: number;
  /** Process CPU seconds spent in turns (`council_answer_cpu_seconds_total`). */
  cpuSeconds: number;
  /** User ratings (`council_feedback_total`), 👍 = up, 👎 = down. */
  ratings: { up: number; down: number };
}

export const emptyUsage = (): AdapterUsage => ({ answers: 0, tokens: 0, cpuSeconds: 0, ratings: { up: 0, down: 0 } });

/** Adds `more` to `into` (pooling a canary's windows). */
export function addUsage(into: AdapterUsage, more: AdapterUsage): AdapterUsage {
  return { answers: into.answers + more.answers, tokens: into.tokens + more.tokens, cpuSeconds: into.cpuSeconds + more.cpuSeconds, ratings: { up: into.ratings.up + more.ratings.up, down: into.ratings.down + more.ratings.down } };
}

/** Builds one side's usage from counter increases: outcomes (for answers), tokens, CPU seconds, ratings by `rating` label. */
export function usageFrom({ byOutcome, tokens, cpuSeconds, byRating }: { byOutcome: Map<string, number>; tokens: number; cpuSeconds: number; byRating: Map<string, number> }): AdapterUsage {
  return { answers: (byOutcome.get("success") ?? 0) + (byOutcome.get("failure") ?? 0), tokens, cpuSeconds, ratings: { up: byRating.get("up") ?? 0, down: byRating.get("down") ?? 0 } };
}

export interface WindowStats {
  canary: AdapterWindowStats;
  stable: AdapterWindowStats;
  windowSeconds: number;
}

/** The `adapter` label values of the two sides (the runtime labels requests with the version, or "base"). */
export interface AnalysisTarget {
  canary: string;
  stable: string;
}

export interface AnalysisWindow {
  /** Ends the window and returns what happened in it. Throws PROMETHEUS_* (or other) errors on query failures. */
  close(): Promise<WindowStats>;
}

/** Where canary analysis reads traffic from: a real Prometheus, or the in-process registry. */
export interface AnalysisSource {
  readonly name: string;
  openWindow(target: AnalysisTarget): Promise<AnalysisWindow>;
}

/** The label value for a version: the version itself, or "base" for no adapter. */
export const adapterLabel = (version: string | null): string => version ?? "base";

export const COUNTED_OUTCOMES = ["success", "failure", "error"] as const;

export function statsFrom({ byOutcome, p95Seconds }: { byOutcome: Map<string, number>; p95Seconds: number | null }): AdapterWindowStats {
  const requests = COUNTED_OUTCOMES.reduce((sum, outcome) => sum + (byOutcome.get(outcome) ?? 0), 0);
  const successes = byOutcome.get("success") ?? 0;
  return {
    requests,
    successes,
    successRate: requests > 0 ? successes / requests : null,
    p95Ms: p95Seconds === null || !Number.isFinite(p95Seconds) || requests === 0 ? null : p95Seconds * 1000,
  };
}

/**
 * Prometheus' `histogram_quantile` on cumulative buckets (upper bound `le` → count ≤ le), linear
 * interpolation inside the bucket; a rank in the +Inf bucket returns the largest finite bound.
 */
export function histogramQuantile(quantile: number, buckets: ReadonlyArray<{ le: number; count: number }>): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted[sorted.length - 1]?.count ?? 0;
  if (total <= 0) return null;
  const rank = quantile * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (bucket.le === Infinity) return lowerBound;
      if (bucket.count === lowerCount) return bucket.le;
      return lowerBound + ((bucket.le - lowerBound) * (rank - lowerCount)) / (bucket.count - lowerCount);
    }
    lowerBound = bucket.le;
    lowerCount = bucket.count;
  }
  return lowerBound;
}
