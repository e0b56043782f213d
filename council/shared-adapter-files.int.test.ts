import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadConfig } from "../core/index.js";
import { AdapterRegistry, AdapterWatcher, type ReleaseStore } from "../deploy/index.js";
import { writeTestAdapter } from "../deploy/test-adapter.js";
import { havePostgres, sql, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { openReleaseStore } from "./open-release-store.js";

let server: PostgresServer;
let databases = 0;

/** One replica: its own data dir (its own loras/versions/) and its own release store on the shared database. */
interface Replica {
  root: string;
  registry: AdapterRegistry;
  releases: ReleaseStore;
}

async function startReplica(url: string, env: Record<string, string> = {}): Promise<Replica> {
  const root = await mkdtemp(join(tmpdir(), "council-files-"));
  const config = loadConfig({ env, overrides: { dataDir: root, memory: { store: "postgres", databaseUrl: url } } });
  const registry = await AdapterRegistry.create({ config });
  return { root, registry, releases: await openReleaseStore({ config, registry }) };
}

async function publish(replica: Replica, salt: string): Promise<string> {
  const path = join(replica.root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await replica.registry.publish({ adapterPath: path, training: { salt }, evaluation: { probes: [{ prompt: "hi", output: salt }] } })).version;
}

describe.skipIf(!havePostgres)("adapter version folders shared through a real Postgres 15 (two data dirs)", () => {
  let url: string;
  let a: Replica;
  let b: Replica;

  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    url = await server.createDatabase(`files_${++databases}`);
    a = await startReplica(url);
    b = await startReplica(url);
  });
  afterEach(async () => {
    for (const replica of [a, b]) {
      await replica?.releases.dispose();
      if (replica) await rm(replica.root, { recursive: true, force: true });
    }
  });

  it("publish and activate on A; B's watcher materialises the version before it swaps, and B's registry verifies and lists it", async () => {
    const watcher = await AdapterWatcher.create({ registry: b.registry, releases: b.releases, pollIntervalMs: 200 });
    try {
      const swapped = new Promise<{ version: string | null; adapterPath: string | null }>((resolve) => watcher.once("adapter-swapped", resolve));
      const version = await publish(a, "night-1");
      await a.releases.activate(version, { reason: "nightly" });
      const event = await swapped;
      expect(event.version).toBe(version);
      expect((await b.registry.verify(version)).adapterPath).toBe(event.adapterPath);
      expect((await b.registry.list()).map((item) => item.version)).toEqual([version]);
      expect(await b.registry.readEval(version)).toEqual(await a.registry.readEval(version));
      const rows = await sql<{ name: string }>(url, "SELECT name FROM council_adapter_files WHERE version = $1 ORDER BY name", [version]);
      expect(rows.map((row) => row.name)).toEqual(["adapter.gguf", "eval.json", "training.json"]);
    } finally {
      await watcher.dispose();
    }
  });

  it("a canary started on A reaches B, and B can roll back to a version only A published", async () => {
    const first = await publish(a, "night-1");
    const second = await publish(a, "night-2");
    await a.releases.activate(first, { reason: "nightly" });
    const now = new Date().toISOString();
    await a.releases.setCanary({ version: second, stable: first, weight: 10, step: 1, status: "running", startedAt: now, updatedAt: now, reason: null });
    await b.releases.materialise?.(second);
    expect((await b.registry.verify(second)).version).toBe(second);
    await a.releases.activate(second, { reason: "promoted" });
    await expect(b.releases.rollback({ reason: "forced" })).resolves.toEqual({ from: second, to: first });
    expect((await b.registry.verify(first)).version).toBe(first);
  });

  it("a tampered row is refused: B keeps no folder for it and cannot activate it", async () => {
    const version = await publish(a, "night-3");
    await a.releases.activate(version, { reason: "nightly" });
    await sql(url, "UPDATE council_adapter_files SET bytes = bytes || '\\x00'::bytea, sha256 = encode(sha256(bytes || '\\x00'::bytea), 'hex') WHERE version = $1 AND name = 'adapter.gguf'", [version]);
    await expect(b.releases.materialise?.(version)).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
    await expect(b.releases.activate(version, { reason: "retry" })).rejects.toMatchObject({ code: "ADAPTER_INVALID" });
    expect(await readdir(b.registry.paths.versions)).toEqual([]);
    expect((await readdir(b.registry.paths.loras)).filter((name) => name.startsWith(".materialise"))).toEqual([]);
  });

  it("COUNCIL_SHARED_ADAPTER_MAX_BYTES caps what a replica shares: above it, activate is ADAPTER_TOO_LARGE and nothing is stored", async () => {
    const capped = await startReplica(url, { COUNCIL_SHARED_ADAPTER_MAX_BYTES: "100" });
    try {
      const version = await publish(capped, "night-big");
      await expect(capped.releases.activate(version, { reason: "nightly" })).rejects.toMatchObject({ code: "ADAPTER_TOO_LARGE", details: { maxBytes: 100 } });
      expect(await sql(url, "SELECT name FROM council_adapter_files WHERE version = $1", [version])).toEqual([]);
      // The same folder under the default cap (128 MiB) is shared.
      await publish(a, "night-big");
      await a.releases.activate(version, { reason: "nightly" });
      expect((await sql(url, "SELECT name FROM council_adapter_files WHERE version = $1", [version])).length).toBe(3);
    } finally {
      await capped.releases.dispose();
      await rm(capped.root, { recursive: true, force: true });
    }
  });
});
