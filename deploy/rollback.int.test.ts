import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { AdapterWatcher } from "./adapter-watcher.js";
import { CanaryRouter } from "./canary-router.js";
import { readCanaryState, writeCanaryState } from "./canary-state.js";
import { rollbackDeployment } from "./rollback.js";
import { writeTestAdapter } from "./test-adapter.js";

/**
 * A serving side wired as the runtime wires it: a watcher on the real loras/ feeding a canary router.
 * Measures how long after a rollback every user is routed to stable.
 */
let root: string;
let registry: AdapterRegistry;
let watcher: AdapterWatcher;
let router: CanaryRouter;
let versions: { stable: string; canary: string };
const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

async function msUntil(condition: () => boolean, limitMs = 5000): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return performance.now() - started;
}

const canaryUsers = () => users.filter((user) => router.select(user).slot === "canary").length;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-rollback-int-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
  versions = { stable: await publish("stable"), canary: await publish("canary") };
  await registry.activate(versions.stable, { reason: "setup" });
  const now = new Date().toISOString();
  await writeCanaryState(registry.paths.loras, { version: versions.canary, stable: versions.stable, weight: 50, step: 1, status: "running", startedAt: now, updatedAt: now, reason: null });
  watcher = await AdapterWatcher.create({ registry, pollIntervalMs: 250 });
  router = new CanaryRouter({ stable: watcher.current(), state: await readCanaryState(registry.paths.loras) });
  watcher.on("canary-changed", (state) => router.update(state));
  watcher.on("adapter-swapped", ({ version }) => router.setStable(version));
});
afterEach(async () => {
  await watcher.dispose();
  await rm(root, { recursive: true, force: true });
});

describe("rollback reaches serving traffic (real fs, fs.watch + polling)", () => {
  it("moves every user off the canary within 1 s of the rollback", async () => {
    expect(canaryUsers()).toBeGreaterThan(800);
    const started = performance.now();
    await rollbackDeployment({ registry, reason: "latency: test" });
    await msUntil(() => canaryUsers() === 0);
    const elapsed = performance.now() - started;
    console.log(`rollback → all traffic on stable in ${elapsed.toFixed(1)} ms`);
    expect(elapsed).toBeLessThan(1000);
    expect(users.every((user) => router.select(user).version === versions.stable)).toBe(true);
  });

  it("`council rollback` in another process: the serving side switches within 1 s of it finishing", async () => {
    // Promote the canary first, so the rollback is a symlink switch of current.
    await writeCanaryState(registry.paths.loras, { ...(await readCanaryState(registry.paths.loras))!, status: "promoted", weight: 0 });
    await registry.activate(versions.canary, { reason: "promote", action: "promote" });
    await msUntil(() => router.select("anyone").version === versions.canary);
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "rollback", "--reason", "test"], {
      cwd: PROJECT_ROOT,
      // COUNCIL_MODEL points nowhere: the test adapters are header-only, so the base-model check is skipped.
      env: { ...process.env, COUNCIL_DATA_DIR: root, COUNCIL_LOG_LEVEL: "silent", COUNCIL_MODEL: join(root, "no-model.gguf") },
    });
    let out = "";
    child.stdout.on("data", (chunk) => (out += chunk));
    const code = await new Promise((resolve) => child.once("exit", resolve));
    const finished = performance.now();
    expect(code).toBe(0);
    expect(out).toContain(`rolled back: ${versions.canary} → ${versions.stable}`);
    await msUntil(() => router.select("anyone").version === versions.stable, 1000);
    console.log(`CLI rollback → serving side on stable ${(performance.now() - finished).toFixed(1)} ms after the command exited`);
    expect(await registry.current()).toBe(versions.stable);
  });
});
