import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdapterRegistry } from "./adapter-registry.js";
import { AdapterWatcher } from "./adapter-watcher.js";
import { CanaryRouter } from "./canary-router.js";
import type { CanaryState } from "./canary-state.js";
import { rollbackDeployment } from "./rollback.js";
import { writeTestAdapter } from "./test-adapter.js";
import { MemoryReleaseStore } from "./test-memory-release-store.js";

/** Two replicas: separate data dirs (the same content-hashed versions), one shared release record. */
let roots: string[];
let store: MemoryReleaseStore;
let watchers: AdapterWatcher[];
let routers: CanaryRouter[];
let versions: { stable: string; canary: string };
const users = Array.from({ length: 5000 }, (_, i) => `user-${i}`);

async function replicaRegistry(): Promise<AdapterRegistry> {
  const root = await mkdtemp(join(tmpdir(), "council-replica-"));
  roots.push(root);
  const registry = await AdapterRegistry.create({ config: { dataDir: root } });
  const published: string[] = [];
  for (const salt of ["stable", "canary"]) {
    await writeTestAdapter({ path: join(root, `${salt}.gguf`), salt });
    published.push((await registry.publish({ adapterPath: join(root, `${salt}.gguf`), training: {}, evaluation: { probes: [] } })).version);
  }
  versions = { stable: published[0]!, canary: published[1]! };
  return registry;
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; !condition(); i++) {
    if (i > 400) throw new Error("replicas did not converge within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

beforeEach(async () => {
  roots = [];
  const registries = [await replicaRegistry(), await replicaRegistry()];
  store = new MemoryReleaseStore({ registry: registries[0]! });
  watchers = [];
  routers = [];
  for (const registry of registries) {
    const watcher = await AdapterWatcher.create({ registry, releases: store, pollIntervalMs: 20, useFsWatch: false });
    const router = new CanaryRouter({ stable: watcher.current() });
    watcher.on("canary-changed", (state) => router.update(state));
    watcher.on("adapter-swapped", ({ version }) => router.setStable(version));
    watchers.push(watcher);
    routers.push(router);
  }
});
afterEach(async () => {
  for (const watcher of watchers) await watcher.dispose();
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

const running = (weight: number): CanaryState => ({ version: versions.canary, stable: versions.stable, weight, step: 0, status: "running", startedAt: "2026-01-01T00:00:00.000Z", updatedAt: new Date().toISOString(), reason: null });
const routes = (router: CanaryRouter) => users.map((user) => router.select(user).version);

describe("routing is sticky by user, not by replica", () => {
  it("two routers fed by one release record send every user to the same version at every step", async () => {
    const [a, b] = routers as [CanaryRouter, CanaryRouter];
    await store.activate(versions.stable, { reason: "setup" });
    await until(() => routers.every((router) => router.select("x").version === versions.stable));
    let canaryUsers: string[] = [];
    for (const weight of [10, 50]) {
      await store.setCanary(running(weight));
      await until(() => routers.every((router) => router.weight() === weight));
      expect(routes(b)).toEqual(routes(a));
      const now = users.filter((user) => a.select(user).slot === "canary");
      expect(Math.abs(now.length / users.length - weight / 100)).toBeLessThan(0.02);
      // Raising the share only adds users: nobody who saw the canary at 10 % is sent back to stable at 50 %.
      expect(canaryUsers.every((user) => now.includes(user))).toBe(true);
      canaryUsers = now;
    }
    await rollbackDeployment({ registry: await replicaRegistry(), releases: store, reason: "latency: test", summaryDir: roots[0]! });
    await until(() => routers.every((router) => router.weight() === 0));
    expect(routes(a).every((version) => version === versions.stable)).toBe(true);
    expect(routes(b)).toEqual(routes(a));
  });

  it("a promotion written once moves both replicas' stable slot", async () => {
    await store.activate(versions.stable, { reason: "setup" });
    await store.activate(versions.canary, { reason: "canary passed every step", action: "promote" });
    await until(() => routers.every((router) => router.select("anyone").version === versions.canary));
    expect(watchers.map((watcher) => watcher.current())).toEqual([versions.canary, versions.canary]);
  });
});
