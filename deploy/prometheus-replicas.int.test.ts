import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMetrics, type CouncilMetrics } from "../core/index.js";
import { havePrometheus, startPrometheus, type PrometheusServer } from "../test/helpers/prometheus.js";
import { PrometheusSource } from "./prometheus-source.js";

/**
 * The canary analysis over two replicas through a REAL Prometheus (Debian's /usr/bin/prometheus, loopback, temp
 * TSDB) scraping two /metrics endpoints, each with Council's own metric set: the window's stats are both replicas' sum.
 */

let root: string;
let prometheus: PrometheusServer | undefined;
let source: PrometheusSource;
const replicas: Array<{ metrics: CouncilMetrics; server: Server; host: string }> = [];

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

async function until(what: string, check: () => Promise<boolean>, limitMs = 60_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${limitMs} ms; prometheus log tail:\n${prometheus?.log().slice(-2000) ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Series exist at 0 before the window, as they do on a replica that has served before: increase() counts from there. */
function zero(metrics: CouncilMetrics): void {
  for (const adapter of ["canary-v", "stable-v"]) {
    for (const outcome of ["success", "failure"]) metrics.requests.inc({ route: "chat", adapter, outcome }, 0);
    metrics.requestDuration.zero({ adapter });
    metrics.tokensGenerated.inc({ adapter }, 0);
    metrics.answerCpuSeconds.inc({ adapter }, 0);
  }
}

function serve(metrics: CouncilMetrics, { adapter, successes, failures, seconds }: { adapter: string; successes: number; failures: number; seconds: number }): void {
  metrics.requests.inc({ route: "chat", adapter, outcome: "success" }, successes);
  metrics.requests.inc({ route: "chat", adapter, outcome: "failure" }, failures);
  for (let i = 0; i < successes + failures; i++) metrics.requestDuration.observe({ adapter }, seconds);
  metrics.tokensGenerated.inc({ adapter }, 10 * (successes + failures));
}

describe.skipIf(!havePrometheus)("canary analysis sums two replicas scraped by a real Prometheus", () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "council-prom-replicas-"));
    for (let i = 0; i < 2; i++) {
      const metrics = createMetrics({ defaultMetrics: false });
      zero(metrics);
      const server = createServer((_request, response) => {
        void metrics.registry.metrics().then((text) => response.writeHead(200, { "content-type": metrics.registry.contentType }).end(text));
      });
      replicas.push({ metrics, server, host: `127.0.0.1:${await listen(server)}` });
    }
    prometheus = await startPrometheus({ dir: root, targets: replicas.map(({ host }) => host) });
    source = new PrometheusSource({ url: prometheus.url });
    await until("both replicas scraped", async () => (await source.query('up{job="council"} == 1')).length === 2);
    await until("both replicas' counters scraped", async () => (await source.query('council_requests_total{adapter="canary-v",outcome="success"}')).length === 2);
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    for (const { server } of replicas) await new Promise((resolve) => server.close(resolve));
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("counts both replicas' canary and stable traffic in one window", async () => {
    const [a, b] = replicas as [(typeof replicas)[0], (typeof replicas)[0]];
    const window = await source.openWindow({ canary: "canary-v", stable: "stable-v" });
    // A zero sample inside the window first, so increase() sees the whole rise on both replicas.
    await sleep(2500);
    serve(a.metrics, { adapter: "canary-v", successes: 30, failures: 0, seconds: 0.3 });
    serve(b.metrics, { adapter: "canary-v", successes: 30, failures: 10, seconds: 0.3 });
    serve(a.metrics, { adapter: "stable-v", successes: 20, failures: 0, seconds: 0.3 });
    await sleep(3500);
    const { canary, stable, windowSeconds } = await window.close();
    console.log(`two replicas through Prometheus over ${windowSeconds.toFixed(1)} s: canary ${canary.requests.toFixed(1)} requests (${((canary.successRate ?? 0) * 100).toFixed(1)} % ok), stable ${stable.requests.toFixed(1)}`);
    // One replica alone would give 30 (a) or 40 (b) canary requests; the sum is 70 (increase() extrapolates a little).
    expect(canary.requests).toBeGreaterThan(60);
    expect(canary.requests).toBeLessThan(100);
    expect(canary.successRate).toBeCloseTo(60 / 70, 1);
    expect(canary.usage?.tokens).toBeGreaterThan(600);
    expect(stable.requests).toBeGreaterThan(15);
    expect(canary.p95Ms).not.toBeNull();
  });
});
