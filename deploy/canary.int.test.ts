import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics, type CouncilMetrics } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { adapterLabel } from "./analysis-source.js";
import { CanaryController } from "./canary-controller.js";
import { CanaryRouter } from "./canary-router.js";
import { RegistrySource } from "./registry-source.js";
import { writeTestAdapter } from "./test-adapter.js";

/**
 * The canary loop on real parts: real registry on disk, real prom-client metrics, RegistrySource diffing
 * snapshots, real timers. Simulated users hit the router every few ms; the canary adapter's behaviour is
 * scripted (a "bad" one fails half its turns), everything else is the production code.
 */
let root: string;
let registry: AdapterRegistry;
let metrics: CouncilMetrics;
let traffic: NodeJS.Timeout | undefined;

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

function startTraffic(router: CanaryRouter, behaviour: (version: string | null, i: number) => { success: boolean; seconds: number }): void {
  let i = 0;
  traffic = setInterval(() => {
    for (let burst = 0; burst < 4; burst++, i++) {
      const { version } = router.select(`user-${i % 500}`);
      const { success, seconds } = behaviour(version, i);
      metrics.requests.inc({ route: "answer", adapter: adapterLabel(version), outcome: success ? "success" : "failure" });
      metrics.requestDuration.observe({ adapter: adapterLabel(version) }, seconds);
    }
  }, 5);
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-canary-int-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
  metrics = createMetrics({ defaultMetrics: false });
});
afterEach(async () => {
  clearInterval(traffic);
  await rm(root, { recursive: true, force: true });
});

const settings = { canarySteps: [10, 50, 100], canaryIntervalSeconds: 0.5, canaryMinRequests: 10, canaryMaxErrors: 3, canaryDeadlineSeconds: 30, rollbackMinSuccess: 0.85, rollbackMaxSuccessDrop: 0.05, rollbackMaxP95Ms: 1000 };

describe("canary on live (simulated) traffic with the in-process registry", () => {
  it("rolls back an adapter that fails live traffic within one analysis interval", async () => {
    const stable = await publish("stable");
    const bad = await publish("bad");
    await registry.activate(stable, { reason: "setup" });
    const router = new CanaryRouter({ stable });
    startTraffic(router, (version, i) => ({ success: version !== bad || i % 2 === 0, seconds: 0.05 }));
    const controller = new CanaryController({ registry, source: new RegistrySource({ registry: metrics.registry }), settings, metrics, onState: (state) => router.update(state) });
    const started = performance.now();
    const outcome = await controller.run({ version: bad });
    const elapsed = performance.now() - started;
    console.log(`bad canary: ${outcome.status} after ${elapsed.toFixed(0)} ms; ${outcome.status === "rolled-back" ? outcome.reason : ""}`);
    expect(outcome.status).toBe("rolled-back");
    expect(outcome.status === "rolled-back" && outcome.reason).toMatch(/^success_rate/);
    expect(outcome.analyses).toHaveLength(1);
    expect(elapsed).toBeLessThan(settings.canaryIntervalSeconds * 1000 + 500);
    expect(router.weight()).toBe(0);
    expect(await registry.current()).toBe(stable);
  });

  it("promotes a healthy adapter through 10 → 50 → 100 and it becomes current", async () => {
    const stable = await publish("stable");
    const good = await publish("good");
    await registry.activate(stable, { reason: "setup" });
    const router = new CanaryRouter({ stable });
    const weightsSeen: number[] = [];
    startTraffic(router, () => ({ success: true, seconds: 0.2 }));
    const controller = new CanaryController({
      registry,
      source: new RegistrySource({ registry: metrics.registry }),
      settings,
      metrics,
      onState: (state) => {
        router.update(state);
        if (state.status === "running") weightsSeen.push(state.weight);
      },
    });
    const outcome = await controller.run({ version: good });
    expect(outcome.status).toBe("promoted");
    expect(weightsSeen).toEqual([10, 50, 100]);
    const canaryShares = outcome.analyses.map((a) => a.stats!.canary.requests / (a.stats!.canary.requests + a.stats!.stable.requests));
    expect(canaryShares[0]).toBeLessThan(0.3);
    expect(canaryShares[2]).toBe(1);
    expect(outcome.analyses[0]!.stats!.canary.p95Ms).toBeGreaterThan(100);
    expect(await registry.current()).toBe(good);
  });
});
