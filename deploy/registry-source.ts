import type { Registry } from "prom-client";
import { CouncilError } from "../core/index.js";
import { histogramQuantile, statsFrom, type AnalysisSource, type AnalysisTarget, type AnalysisWindow, type WindowStats } from "./analysis-source.js";

interface Snapshot {
  at: number;
  /** adapter → outcome → count */
  requests: Map<string, Map<string, number>>;
  /** adapter → le → cumulative count */
  buckets: Map<string, Map<number, number>>;
}

/**
 * Analysis from the in-process prom-client registry (no Prometheus configured): snapshots of
 * `council_requests_total` and `council_request_duration_seconds` at window start and end, diffed.
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
          const byOutcome = new Map<string, number>();
          const endCounts = end.requests.get(label) ?? new Map<string, number>();
          const startCounts = start.requests.get(label) ?? new Map<string, number>();
          for (const [outcome, count] of endCounts) byOutcome.set(outcome, Math.max(0, count - (startCounts.get(outcome) ?? 0)));
          const endBuckets = end.buckets.get(label) ?? new Map<number, number>();
          const startBuckets = start.buckets.get(label) ?? new Map<number, number>();
          const buckets = [...endBuckets].map(([le, count]) => ({ le, count: Math.max(0, count - (startBuckets.get(le) ?? 0)) }));
          return statsFrom({ byOutcome, p95Seconds: histogramQuantile(0.95, buckets) });
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
    const requests = new Map<string, Map<string, number>>();
    for (const value of (await requestsMetric.get()).values) {
      const adapter = String(value.labels.adapter ?? "");
      const outcome = String(value.labels.outcome ?? "");
      const perAdapter = requests.get(adapter) ?? new Map<string, number>();
      perAdapter.set(outcome, (perAdapter.get(outcome) ?? 0) + value.value);
      requests.set(adapter, perAdapter);
    }
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
    return { at: this.now(), requests, buckets };
  }
}
