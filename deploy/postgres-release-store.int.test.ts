import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import pg from "pg";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../core/index.js";
import { applyMigrations } from "../memory/index.js";
import { havePostgres, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { AdapterWatcher } from "./adapter-watcher.js";
import { CanaryRouter } from "./canary-router.js";
import { collectDeployStatus } from "./deploy-status.js";
import { PostgresReleaseStore } from "./postgres-release-store.js";
import { releaseStoreContract } from "./release-store.contract.js";
import { rollbackDeployment } from "./rollback.js";
import { writeTestAdapter } from "./test-adapter.js";

let server: PostgresServer;
let databases = 0;

async function migratedDatabase(): Promise<string> {
  const url = await server.createDatabase(`release_${++databases}`);
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const client = await pool.connect();
  try {
    await applyMigrations(client);
  } finally {
    client.release();
    await pool.end();
  }
  return url;
}

/** One replica: its own data dir holding the same published versions, its own store connection, watcher and router. */
interface Replica {
  root: string;
  registry: AdapterRegistry;
  store: PostgresReleaseStore;
  watcher: AdapterWatcher;
  router: CanaryRouter;
}

/** The adapter versions every replica holds (content-hashed, so the same names on every replica). */
async function publishAll(registry: AdapterRegistry, root: string): Promise<string[]> {
  const versions: string[] = [];
  for (const salt of ["stable", "canary"]) {
    const path = join(root, `${salt}.gguf`);
    await writeTestAdapter({ path, salt });
    versions.push((await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version);
  }
  return versions;
}

async function startReplica({ url, pollIntervalMs, push }: { url: string; pollIntervalMs: number; push: boolean }): Promise<Replica> {
  const root = await mkdtemp(join(tmpdir(), "council-replica-"));
  const registry = await AdapterRegistry.create({ config: { dataDir: root } });
  await publishAll(registry, root);
  const store = await PostgresReleaseStore.create({ url, verify: (version) => registry.verify(version) });
  const watcher = await AdapterWatcher.create({ registry, releases: store, pollIntervalMs, useFsWatch: push });
  const router = new CanaryRouter({ stable: watcher.current(), state: await store.canary() });
  watcher.on("canary-changed", (state) => router.update(state));
  watcher.on("adapter-swapped", ({ version }) => router.setStable(version));
  return { root, registry, store, watcher, router };
}

async function msUntil(condition: () => boolean, limitMs: number): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - started;
}

const users = Array.from({ length: 2000 }, (_, i) => `user-${i}`);

describe.skipIf(!havePostgres)("adapter release in a real Postgres 15 (initdb in a temp dir, torn down after)", () => {
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });

  releaseStoreContract("postgres", async (registry) => PostgresReleaseStore.create({ url: await migratedDatabase(), verify: (version) => registry.verify(version) }));

  describe.each([
    { mode: "LISTEN/NOTIFY + 1 s poll", push: true, pollIntervalMs: 1000, boundMs: 500 },
    { mode: "poll only, every 300 ms", push: false, pollIntervalMs: 300, boundMs: 300 + 500 },
  ])("two replicas follow one release record ($mode)", ({ push, pollIntervalMs, boundMs }) => {
    let url: string;
    let replicas: Replica[];
    let controller: { root: string; registry: AdapterRegistry; store: PostgresReleaseStore };
    let versions: string[];

    beforeEach(async () => {
      url = await migratedDatabase();
      const root = await mkdtemp(join(tmpdir(), "council-controller-"));
      const registry = await AdapterRegistry.create({ config: { dataDir: root } });
      versions = await publishAll(registry, root);
      controller = { root, registry, store: await PostgresReleaseStore.create({ url, verify: (version) => registry.verify(version) }) };
      replicas = [await startReplica({ url, pollIntervalMs, push }), await startReplica({ url, pollIntervalMs, push })];
    });
    afterEach(async () => {
      for (const replica of replicas) {
        await replica.watcher.dispose();
        await replica.store.dispose();
        await rm(replica.root, { recursive: true, force: true });
      }
      await controller.store.dispose();
      await rm(controller.root, { recursive: true, force: true });
    });

    it("canary step, promotion and rollback reach both replicas within the bound, and both route every user alike", async () => {
      const [stable, canary] = versions as [string, string];
      const [a, b] = replicas as [Replica, Replica];
      const delays: Record<string, number> = {};
      /** Time from the start of the write until both replicas route by it. */
      const reachBoth = async (what: string, write: () => Promise<unknown>, condition: (replica: Replica) => boolean) => {
        const started = performance.now();
        await write();
        await msUntil(() => replicas.every(condition), boundMs * 4);
        delays[what] = performance.now() - started;
      };

      await reachBoth("activate", () => controller.store.activate(stable, { reason: "setup" }), (replica) => replica.router.select("anyone").version === stable);

      const now = new Date().toISOString();
      const running = { version: canary, stable, weight: 30, step: 0, status: "running" as const, startedAt: now, updatedAt: now, reason: null };
      await reachBoth("canary 30 %", () => controller.store.setCanary(running), (replica) => replica.router.weight() === 30);
      // Sticky by user, not by replica: both replicas send every user to the same version.
      const onA = users.map((user) => a.router.select(user).version);
      expect(users.map((user) => b.router.select(user).version)).toEqual(onA);
      const share = onA.filter((version) => version === canary).length / users.length;
      expect(Math.abs(share - 0.3)).toBeLessThan(0.04);

      const promote = async () => {
        await controller.store.activate(canary, { reason: "canary passed every step", action: "promote" });
        await controller.store.setCanary({ ...running, weight: 0, status: "promoted", reason: "promoted" });
      };
      // Promotion is two writes (stable, then the canary record): timed until every user is on the new version.
      await reachBoth("promotion", promote, (replica) => replica.router.select("anyone").version === canary);
      await msUntil(() => replicas.every((replica) => replica.router.weight() === 0), boundMs * 4);
      expect(users.every((user) => a.router.select(user).version === canary && b.router.select(user).version === canary)).toBe(true);

      const rollback = async () => expect(await rollbackDeployment({ registry: controller.registry, releases: controller.store, reason: "manual: test", summaryDir: controller.root })).toMatchObject({ removed: canary, restored: stable });
      await reachBoth("rollback", rollback, (replica) => replica.router.select("anyone").version === stable);

      console.log(`release → both replicas (${push ? "LISTEN + poll" : "poll"} ${pollIntervalMs} ms): ${Object.entries(delays).map(([what, ms]) => `${what} ${ms.toFixed(1)} ms`).join(", ")}`);
      for (const ms of Object.values(delays)) expect(ms).toBeLessThan(boundMs);
      expect((await a.store.history()).map((entry) => entry.action)).toEqual(["activate", "promote", "rollback"]);
      // `council status` on any replica reports the shared record, not its own loras/.
      const status = await collectDeployStatus({ config: { dataDir: b.root }, releases: b.store });
      expect(status).toMatchObject({ current: stable, canary: { version: canary, status: "promoted", stableWeight: 100 }, problems: [] });
      expect(status.history.map((entry) => entry.action)).toEqual(["activate", "promote", "rollback"]);
    });

    it.runIf(push)("`council rollback` with COUNCIL_STORE=postgres in another process switches both replicas", async () => {
      const [stable, canary] = versions as [string, string];
      await controller.store.activate(stable, { reason: "setup" });
      await controller.store.activate(canary, { reason: "promote", action: "promote" });
      await msUntil(() => replicas.every((replica) => replica.router.select("anyone").version === canary), boundMs * 4);
      const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "rollback", "--reason", "test"], {
        cwd: PROJECT_ROOT,
        env: { ...process.env, COUNCIL_DATA_DIR: controller.root, COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url, COUNCIL_LOG_LEVEL: "silent", COUNCIL_MODEL: join(controller.root, "no-model.gguf") },
      });
      let out = "";
      child.stdout.on("data", (chunk) => (out += chunk));
      child.stderr.on("data", (chunk) => (out += chunk));
      const code = await new Promise((resolve) => child.once("exit", resolve));
      const finished = performance.now();
      expect(out).toContain(`rolled back: ${canary} → ${stable}`);
      expect(code).toBe(0);
      await msUntil(() => replicas.every((replica) => replica.router.select("anyone").version === stable), boundMs);
      console.log(`CLI rollback (postgres) → both replicas on stable ${(performance.now() - finished).toFixed(1)} ms after the command exited`);
      // The release lives in Postgres, not in the data dir: no replica's loras/current moved.
      expect(await controller.registry.current()).toBeNull();
    });
  });
});
