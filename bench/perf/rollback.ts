import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMetrics } from "../../core/index.js";
import { AdapterRegistry, AdapterWatcher, adapterLabel, CanaryController, CanaryRouter, RegistrySource } from "../../deploy/index.js";
import { writeTestAdapter } from "../../deploy/test-adapter.js";
import { percentile } from "./stats.js";

export interface RollbackBenchOptions {
  /** Canary analysis interval in seconds. @default 2 */
  intervalSeconds?: number;
  /** Breaches to measure. @default 3 */
  trials?: number;
  /** Watcher poll interval of the serving side (fs.watch is on too). @default 500 */
  pollIntervalMs?: number;
}

export interface RollbackTrial {
  /** Breach → the controller's rolled-back verdict (loras/current back on stable, canary.json weight 0). */
  msUntilVerdict: number;
  /** Breach → a serving process (watcher on loras/) routes 100 % of users to stable. */
  msUntilAllOnStable: number;
  reason: string;
}

export interface RollbackBenchResult {
  intervalSeconds: number;
  trials: RollbackTrial[];
  msUntilAllOnStable: { p50: number; max: number };
  /** The target: one analysis interval + 1 s. */
  limitMs: number;
}

/**
 * Rollback latency on the real deploy parts: registry on disk, CanaryController analysing live traffic through
 * RegistrySource (prom-client), and a serving side that learns the canary state only through the files (an
 * AdapterWatcher feeding a CanaryRouter, as another process would). The canary passes its first step, then starts
 * failing at a random moment inside a window (the breach); measured until every user is on stable again.
 */
export async function runRollbackBench({ intervalSeconds = 2, trials = 3, pollIntervalMs = 500 }: RollbackBenchOptions = {}): Promise<RollbackBenchResult> {
  const results: RollbackTrial[] = [];
  for (let trial = 0; trial < trials; trial++) results.push(await oneTrial({ intervalSeconds, pollIntervalMs, seed: trial }));
  const all = results.map((r) => r.msUntilAllOnStable);
  return { intervalSeconds, trials: results, msUntilAllOnStable: { p50: percentile(all, 0.5), max: Math.max(...all) }, limitMs: intervalSeconds * 1000 + 1000 };
}

async function oneTrial({ intervalSeconds, pollIntervalMs, seed }: { intervalSeconds: number; pollIntervalMs: number; seed: number }): Promise<RollbackTrial> {
  const root = await mkdtemp(join(tmpdir(), "council-perf-rollback-"));
  const metrics = createMetrics({ defaultMetrics: false });
  const registry = await AdapterRegistry.create({ config: { dataDir: root } });
  const publish = async (salt: string) => {
    const path = join(root, `${salt}.gguf`);
    await writeTestAdapter({ path, salt: `${salt}-${seed}` });
    return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
  };
  const stable = await publish("stable");
  const canary = await publish("canary");
  await registry.activate(stable, { reason: "perf: setup" });
  const controllerRouter = new CanaryRouter({ stable });
  const servingRouter = new CanaryRouter({ stable });
  const watcher = await AdapterWatcher.create({ registry, pollIntervalMs });
  const users = Array.from({ length: 500 }, (_, i) => `user-${i}`);
  let breachAt = Number.POSITIVE_INFINITY;
  let allOnStableAt: number | null = null;
  watcher.on("canary-changed", (state) => {
    servingRouter.update(state && state.status === "running" ? state : null);
    if (allOnStableAt === null && performance.now() > breachAt && users.every((user) => servingRouter.select(user).slot !== "canary")) allOnStableAt = performance.now();
  });
  let i = 0;
  const traffic = setInterval(() => {
    for (let burst = 0; burst < 4; burst++, i++) {
      const { version } = controllerRouter.select(users[i % users.length]!);
      const success = version !== canary || performance.now() < breachAt;
      metrics.requests.inc({ route: "answer", adapter: adapterLabel(version), outcome: success ? "success" : "failure" });
      metrics.requestDuration.observe({ adapter: adapterLabel(version) }, 0.05);
    }
  }, 5);
  try {
    const settings = { canarySteps: [10, 50, 100], canaryIntervalSeconds: intervalSeconds, canaryMinRequests: 10, canaryMaxErrors: 3, canaryDeadlineSeconds: 60, rollbackMinSuccess: 0.85, rollbackMaxSuccessDrop: 0.05, rollbackMaxP95Ms: 1000 };
    const controller = new CanaryController({ registry, source: new RegistrySource({ registry: metrics.registry }), settings, metrics, onState: (state) => controllerRouter.update(state) });
    // the breach: somewhere inside the second window (the first step passes on healthy traffic)
    const offset = intervalSeconds * 1000 * (1.1 + 0.8 * ((seed * 0.37) % 1));
    const started = performance.now();
    setTimeout(() => {
      breachAt = performance.now();
    }, offset);
    const outcome = await controller.run({ version: canary });
    const verdictAt = performance.now();
    if (outcome.status !== "rolled-back") throw new Error(`perf rollback: canary was ${outcome.status}, expected a rollback`);
    while (allOnStableAt === null) {
      if (performance.now() - verdictAt > 30_000) throw new Error("perf rollback: the serving side still routes users to the canary after 30 s");
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    if (!Number.isFinite(breachAt)) throw new Error(`perf rollback: rolled back before the breach (${outcome.reason}) after ${(verdictAt - started).toFixed(0)} ms`);
    return { msUntilVerdict: Math.round(verdictAt - breachAt), msUntilAllOnStable: Math.round(allOnStableAt - breachAt), reason: outcome.reason };
  } finally {
    clearInterval(traffic);
    await watcher.dispose();
    await rm(root, { recursive: true, force: true });
  }
}
