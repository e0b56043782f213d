import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { PrometheusSource, canaryQueries } from "./prometheus-source.js";

/** A real HTTP server on 127.0.0.1 that answers /api/v1/query like Prometheus (scripted per query). */
let server: Server | undefined;
const seen: Array<{ path: string; query: string; time: string }> = [];

async function serve(answer: (query: string) => { status: number; body: string }): Promise<string> {
  seen.length = 0;
  server = createServer(async (request: IncomingMessage, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    const params = new URLSearchParams(body);
    seen.push({ path: request.url ?? "", query: params.get("query") ?? "", time: params.get("time") ?? "" });
    const { status, body: text } = answer(params.get("query") ?? "");
    response.writeHead(status, { "content-type": "application/json" }).end(text);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/`;
}
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

const vector = (samples: Array<[Record<string, string>, string]>) =>
  JSON.stringify({ status: "success", data: { resultType: "vector", result: samples.map(([metric, value]) => ({ metric, value: [1_700_000_000, value] })) } });

async function code(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isCouncilError(error) ? error.code : String(error);
  }
  return undefined;
}

describe("PrometheusSource", () => {
  it("builds rate-over-window PromQL for one adapter", () => {
    expect(canaryQueries({ adapter: "abc", windowSeconds: 59.2 })).toEqual({
      outcomes: 'sum by (outcome) (increase(council_requests_total{adapter="abc"}[60s]))',
      p95: 'histogram_quantile(0.95, sum by (le) (increase(council_request_duration_seconds_bucket{adapter="abc"}[60s])))',
      tokens: 'sum(increase(council_tokens_generated_total{adapter="abc"}[60s]))',
      cpuSeconds: 'sum(increase(council_answer_cpu_seconds_total{adapter="abc"}[60s]))',
      ratings: 'sum by (rating) (increase(council_feedback_total{adapter="abc"}[60s]))',
    });
    expect(canaryQueries({ adapter: 'x"}', windowSeconds: 1 }).outcomes).toContain('adapter="x\\"}"');
  });

  it("parses outcome, p95, tokens, CPU and rating vectors for both sides over the window", async () => {
    const url = await serve((query) => {
      const canary = query.includes('adapter="canary-v"');
      if (query.startsWith("histogram_quantile")) return { status: 200, body: vector(canary ? [[{}, "0.42"]] : [[{}, "NaN"]]) };
      if (query.includes("council_tokens_generated_total")) return { status: 200, body: vector(canary ? [[{}, "800"]] : []) };
      if (query.includes("council_answer_cpu_seconds_total")) return { status: 200, body: vector(canary ? [[{}, "4.5"]] : []) };
      if (query.includes("council_feedback_total")) return { status: 200, body: vector(canary ? [[{ rating: "up" }, "3"], [{ rating: "down" }, "9"]] : [[{ rating: "up" }, "2"]]) };
      return { status: 200, body: vector(canary ? [[{ outcome: "success" }, "18.5"], [{ outcome: "failure" }, "1.5"], [{ outcome: "busy" }, "7"]] : []) };
    });
    let now = 1_700_000_000_000;
    const source = new PrometheusSource({ url, now: () => now });
    const window = await source.openWindow({ canary: "canary-v", stable: "base" });
    now += 60_000;
    const stats = await window.close();
    expect(stats.windowSeconds).toBe(60);
    expect(stats.canary).toEqual({ requests: 20, successes: 18.5, successRate: 0.925, p95Ms: 420, usage: { answers: 20, tokens: 800, cpuSeconds: 4.5, ratings: { up: 3, down: 9 } } });
    expect(stats.stable).toEqual({ requests: 0, successes: 0, successRate: null, p95Ms: null, usage: { answers: 0, tokens: 0, cpuSeconds: 0, ratings: { up: 2, down: 0 } } });
    expect(seen).toHaveLength(10);
    expect(seen.every((request) => request.path === "/api/v1/query" && request.time === "1700000060.000" && request.query.includes("[60s]"))).toBe(true);
  });

  it("sums over every replica: no query filters or groups by instance, job or pod", () => {
    const queries = Object.values(canaryQueries({ adapter: "abc", windowSeconds: 30 }));
    for (const query of queries) {
      expect(query).not.toMatch(/\b(instance|job|pod|replica)\b/);
      // The outermost aggregation over the adapter's series is a sum (p95: of the buckets, per `le`, before the quantile).
      expect(query).toMatch(/^(sum(?: by \((outcome|rating|le)\))? ?\(|histogram_quantile\(0\.95, sum by \(le\) \()/);
      expect(query.match(/increase\(/g)).toHaveLength(1);
    }
  });

  it("adds per-replica series that share the grouping label instead of keeping the last one", async () => {
    const url = await serve((query) => {
      if (query.startsWith("histogram_quantile")) return { status: 200, body: vector([[{}, "0.2"]]) };
      if (query.includes("council_tokens_generated_total")) return { status: 200, body: vector([[{ instance: "a:9464" }, "300"], [{ instance: "b:9464" }, "500"]]) };
      if (query.includes("council_answer_cpu_seconds_total")) return { status: 200, body: vector([[{ instance: "a:9464" }, "1"], [{ instance: "b:9464" }, "2"]]) };
      if (query.includes("council_feedback_total")) return { status: 200, body: vector([[{ rating: "up", instance: "a:9464" }, "1"], [{ rating: "up", instance: "b:9464" }, "2"]]) };
      return { status: 200, body: vector([[{ outcome: "success", instance: "a:9464" }, "6"], [{ outcome: "success", instance: "b:9464" }, "4"], [{ outcome: "failure", instance: "b:9464" }, "2"]]) };
    });
    let now = 1_700_000_000_000;
    const source = new PrometheusSource({ url, now: () => now });
    const window = await source.openWindow({ canary: "c", stable: "s" });
    now += 30_000;
    const { canary } = await window.close();
    expect(canary).toMatchObject({ requests: 12, successes: 10, usage: { tokens: 800, cpuSeconds: 3, ratings: { up: 3, down: 0 } } });
  });

  it("reports garbage as PROMETHEUS_BAD_RESPONSE", async () => {
    for (const body of ["<html>oops</html>", JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } }), JSON.stringify({ status: "error", errorType: "bad_data", error: "parse error" }), "{}"]) {
      await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
      const url = await serve(() => ({ status: body.includes("bad_data") ? 400 : 200, body }));
      expect(await code(new PrometheusSource({ url }).query("up"))).toBe("PROMETHEUS_BAD_RESPONSE");
    }
  });

  it("reports a down or overloaded Prometheus as PROMETHEUS_UNAVAILABLE", async () => {
    const url = await serve(() => ({ status: 503, body: "overloaded" }));
    expect(await code(new PrometheusSource({ url }).query("up"))).toBe("PROMETHEUS_UNAVAILABLE");
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    expect(await code(new PrometheusSource({ url, timeoutMs: 500 }).query("up"))).toBe("PROMETHEUS_UNAVAILABLE");
  });
});
