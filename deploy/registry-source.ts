import type { Registry } from "prom-client";
import { CouncilError } from "../core/index.js";
import { histogramQuantile, statsFrom, usageFrom, type AnalysisSource, type AnalysisTarget, type AnalysisWindow, type WindowStats } from "./analysis-source.js";

interface Snapshot {
  at: number;
  /** adapter → outcome → count */
  requests: Map<string, Map<string, number>>;
  /** adapter → le → cumulative count */
  buckets: Map<string, Map<number, number>>;
  /** adapter → "" → count (tokens, CPU seconds) */
  tokens: Map<string, Map<string, number>>;
  cpuSeconds: Map<string, Map<string, number>>;
  /** adapter → rating → count */
  ratings: Map<string, Map<string, number>>;
}

/** Per-label increase between two snapshots of one counter. */
function diff(end: Map<string, Map<string, number>>, start: Map<string, Map<string, number>>, adapter: string): Map<string, number> {
  const result = new Map<string, number>();
  const startCounts = start.get(adapter) ?? new Map<string, number>();
  for (const [key, count] of end.get(adapter) ?? new Map<string, number>()) result.set(key, Math.max(0, count - (startCounts.get(key) ?? 0)));
  return result;
}

/**
 * Analysis from the in-process prom-client registry (no Prometheus configured): snapshots of
 * `council_requests_total`, `council_request_duration_seconds`, `council_tokens_generated_total`,
 * `council_answer_cpu_seconds_total` and `council_feedback_total` at window start and end, diffed.
 */
export class RegistrySource implements AnalysisSource {
  readonly name = "registry";
  private readonly registry: Registry;
  private readonly now: () => number;

  constructor({ registry, now = () => Date.now() }: { registry: Registry; now?: () => number }) {
    this.registry = registry;
    this.now = now;
  }

  async openWindow(target: AnalysisTarget): Promise<AnalysisWindow> {
    const start = await this.snapshot();
    return {
      close: async (): Promise<WindowStats> => {
        const end = await this.snapshot();
        const side = (label: string) => {
          const byOutcome = diff(end.requests, start.requests, label);
          const endBuckets = end.buckets.get(label) ?? new Map<number, number>();
          const startBuckets = start.buckets.get(label) ?? new Map<number, number>();
          const buckets = [...endBuckets].map(([le, count]) => ({ le, count: Math.max(0, count - (startBuckets.get(le) ?? 0)) }));
          const usage = usageFrom({ byOutcome, tokens: diff(end.tokens, start.tokens, label).get("") ?? 0, cpuSeconds: diff(end.cpuSeconds, start.cpuSeconds, label).get("") ?? 0, byRating: diff(end.ratings, start.ratings, label) });
          return { ...statsFrom({ byOutcome, p95Seconds: histogramQuantile(0.95, buckets) }), usage };
        };
        return { canary: side(target.canary), stable: side(target.stable), windowSeconds: (end.at - start.at) / 1000 };
      },
    };
  }

  private async snapshot(): Promise<Snapshot> {
    const requestsMetric = this.registry.getSingleMetric("council_requests_total");
    const durationMetric = this.registry.getSingleMetric("council_request_duration_seconds");
    if (!requestsMetric || !durationMetric) {
      throw new CouncilError("BACKEND_UNAVAILABLE", "The metrics registry has no council_requests_total / council_request_duration_seconds; create it with createMetrics().");
    }
    /** A counter summed by adapter and one more label ("" for none); a counter the registry lacks reads as empty. */
    const byAdapter = async (name: string, label: string | null) => {
      const counts = new Map<string, Map<string, number>>();
      const metric = this.registry.getSingleMetric(name);
      for (const value of metric ? (await metric.get()).values : []) {
        const adapter = String(value.labels.adapter ?? "");
        const key = label === null ? "" : String(value.labels[label] ?? "");
        const perAdapter = counts.get(adapter) ?? new Map<string, number>();
        perAdapter.set(key, (perAdapter.get(key) ?? 0) + value.value);
        counts.set(adapter, perAdapter);
      }
      return counts;
    };
    const requests = await byAdapter("council_requests_total", "outcome");
    const buckets = new Map<string, Map<number, number>>();
    for (const value of (await durationMetric.get()).values) {
      const name = (value as { metricName?: string }).metricName;
      if (name !== "council_request_duration_seconds_bucket") continue;
      const adapter = String(value.labels.adapter ?? "");
      const le = value.labels.le === "+Inf" ? Infinity : Number(value.labels.le);
      const perAdapter = buckets.get(adapter) ?? new Map<number, number>();
      perAdapter.set(le, (perAdapter.get(le) ?? 0) + value.value);
      buckets.set(adapter, perAdapter);
    }
    return {
      at: this.now(),
      requests,
      buckets,
      tokens: await byAdapter("council_tokens_generated_total", null),
      cpuSeconds: await byAdapter("council_answer_cpu_seconds_total", null),
      ratings: await byAdapter("council_feedback_total", "rating"),
    };
  }
}
