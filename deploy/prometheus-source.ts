import { z } from "zod";
import { CouncilError } from "../core/index.js";
import { statsFrom, usageFrom, type AdapterWindowStats, type AnalysisSource, type AnalysisTarget, type AnalysisWindow } from "./analysis-source.js";

const vectorResponseSchema = z.object({
  status: z.literal("success"),
  data: z.object({
    resultType: z.literal("vector"),
    result: z.array(z.object({ metric: z.record(z.string()), value: z.tuple([z.number(), z.string()]) })),
  }),
});
const errorResponseSchema = z.object({ status: z.literal("error"), errorType: z.string().optional(), error: z.string().optional() });

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/**
 * PromQL for one side of the analysis over a `[windowSeconds]s` range (see readme-notes/deploy.md). Every query
 * aggregates with `sum` over all series of the adapter and filters on no `instance`/`job` label, so with several
 * replicas scraped the canary is judged on their combined traffic.
 */
export function canaryQueries({ adapter, windowSeconds }: { adapter: string; windowSeconds: number }): { outcomes: string; p95: string; tokens: string; cpuSeconds: string; ratings: string } {
  const range = `${Math.max(1, Math.ceil(windowSeconds))}s`;
  const label = `adapter="${escapeLabel(adapter)}"`;
  return {
    outcomes: `sum by (outcome) (increase(council_requests_total{${label}}[${range}]))`,
    p95: `histogram_quantile(0.95, sum by (le) (increase(council_request_duration_seconds_bucket{${label}}[${range}])))`,
    tokens: `sum(increase(council_tokens_generated_total{${label}}[${range}]))`,
    cpuSeconds: `sum(increase(council_answer_cpu_seconds_total{${label}}[${range}]))`,
    ratings: `sum by (rating) (increase(council_feedback_total{${label}}[${range}]))`,
  };
}

export interface PrometheusSourceOptions {
  /** Base URL of Prometheus (config.improve.prometheusUrl), e.g. http://127.0.0.1:9090 */
  url: string;
  /** Per-query timeout. @default 5000 */
  timeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
}

/**
 * Analysis from a real Prometheus through its HTTP API (`/api/v1/query`, evaluated at the window's end):
 * `increase()` over the window for request outcomes, generated tokens, CPU seconds and ratings, and
 * `histogram_quantile(0.95, …)` for latency.
 * Unreachable / HTTP 5xx → PROMETHEUS_UNAVAILABLE; anything that is not a valid vector result → PROMETHEUS_BAD_RESPONSE.
 */
export class PrometheusSource implements AnalysisSource {
  readonly name = "prometheus";
  private readonly url: string;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly fetchImpl: typeof fetch;

  constructor({ url, timeoutMs = 5000, now = () => Date.now(), fetch: fetchImpl = fetch }: PrometheusSourceOptions) {
    this.url = url.replace(/\/+$/, "");
    this.timeoutMs = timeoutMs;
    this.now = now;
    this.fetchImpl = fetchImpl;
  }

  async openWindow(target: AnalysisTarget): Promise<AnalysisWindow> {
    const startedAt = this.now();
    return {
      close: async () => {
        const endedAt = this.now();
        const windowSeconds = (endedAt - startedAt) / 1000;
        const [canary, stable] = await Promise.all([this.side(target.canary, windowSeconds, endedAt), this.side(target.stable, windowSeconds, endedAt)]);
        return { canary, stable, windowSeconds };
      },
    };
  }

  private async side(adapter: string, windowSeconds: number, at: number): Promise<AdapterWindowStats> {
    const queries = canaryQueries({ adapter, windowSeconds });
    const [outcomes, p95, tokens, cpuSeconds, ratings] = await Promise.all([queries.outcomes, queries.p95, queries.tokens, queries.cpuSeconds, queries.ratings].map((promql) => this.query(promql, at)));
    // Series that differ in other labels (one per replica, when a rule or federation keeps `instance`) are added:
    // the analysis is over every replica's traffic, never the last series returned.
    const byLabel = (samples: typeof outcomes, label: string) => {
      const values = new Map<string, number>();
      for (const sample of samples!) {
        const value = Number(sample.value[1]);
        const key = sample.metric[label] ?? "";
        if (Number.isFinite(value)) values.set(key, (values.get(key) ?? 0) + value);
      }
      return values;
    };
    const total = (samples: typeof outcomes) => byLabel(samples, "").get("") ?? 0;
    const byOutcome = byLabel(outcomes, "outcome");
    const p95Value = p95![0] === undefined ? null : Number(p95![0].value[1]);
    return {
      ...statsFrom({ byOutcome, p95Seconds: p95Value === null || Number.isNaN(p95Value) ? null : p95Value }),
      usage: usageFrom({ byOutcome, tokens: total(tokens), cpuSeconds: total(cpuSeconds), byRating: byLabel(ratings, "rating") }),
    };
  }

  /** One instant query. Exposed for the ops checks. */
  async query(promql: string, at: number = this.now()) {
    const params = new URLSearchParams({ query: promql, time: (at / 1000).toFixed(3) });
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.url}/api/v1/query`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: params.toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new CouncilError("PROMETHEUS_UNAVAILABLE", `Prometheus at ${this.url} did not answer: ${(cause as Error).message}`, { cause });
    }
    // Gateway / overload statuses mean Prometheus itself is not answering; other statuses carry a body to check.
    if (response.status === 502 || response.status === 503 || response.status === 504) {
      throw new CouncilError("PROMETHEUS_UNAVAILABLE", `Prometheus at ${this.url} answered HTTP ${response.status}.`);
    }
    const text = await response.text().catch((cause: unknown) => {
      throw new CouncilError("PROMETHEUS_UNAVAILABLE", `Prometheus at ${this.url} dropped the response: ${(cause as Error).message}`, { cause });
    });
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (cause) {
      throw new CouncilError("PROMETHEUS_BAD_RESPONSE", `Prometheus answered HTTP ${response.status} with non-JSON: ${text.slice(0, 120)}`, { cause });
    }
    const failed = errorResponseSchema.safeParse(body);
    if (failed.success) {
      throw new CouncilError("PROMETHEUS_BAD_RESPONSE", `Prometheus rejected the query (${failed.data.errorType ?? "error"}): ${failed.data.error ?? "no message"}`, {
        details: { query: promql },
      });
    }
    const parsed = vectorResponseSchema.safeParse(body);
    if (!parsed.success || !response.ok) {
      throw new CouncilError("PROMETHEUS_BAD_RESPONSE", `Prometheus answered HTTP ${response.status} with an unexpected body: ${text.slice(0, 120)}`, {
        details: { query: promql },
      });
    }
    return parsed.data.data.result;
  }
}
