import { mkdtemp, rm, symlink, rename } from "node:fs/promises";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AdapterRegistry } from "./adapter-registry.js";
import { AdapterWatcher, type AdapterSwappedEvent } from "./adapter-watcher.js";
import { writeCanaryState } from "./canary-state.js";
import { MemoryReleaseStore } from "./test-memory-release-store.js";
import { writeTestAdapter } from "./test-adapter.js";

let root: string;
let registry: AdapterRegistry;
let watcher: AdapterWatcher | undefined;

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-watch-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
});
afterEach(async () => {
  await watcher?.dispose();
  watcher = undefined;
  await rm(root, { recursive: true, force: true });
});

describe("AdapterWatcher", () => {
  for (const useFsWatch of [true, false]) {
    it(`emits adapter-swapped once per switch (${useFsWatch ? "fs.watch" : "polling only"})`, async () => {
      const a = await publish("a");
      const b = await publish("b");
      await registry.activate(a, { reason: "1" });
      watcher = await AdapterWatcher.create({ registry, useFsWatch, pollIntervalMs: 50 });
      expect(watcher.current()).toBe(a);
      const events: AdapterSwappedEvent[] = [];
      watcher.on("adapter-swapped", (event) => events.push(event));
      const swapped = once(watcher, "adapter-swapped");
      const started = performance.now();
      await registry.activate(b, { reason: "2" });
      await swapped;
      expect(performance.now() - started).toBeLessThan(1000);
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(events).toEqual([{ version: b, previous: a, adapterPath: join(registry.paths.versions, b, "adapter.gguf") }]);
    });
  }

  it("reload() picks up a switch at once and reports it", async () => {
    const a = await publish("a");
    watcher = await AdapterWatcher.create({ registry, useFsWatch: false, pollIntervalMs: 60_000 });
    expect(watcher.current()).toBeNull();
    await registry.activate(a, { reason: "1" });
    expect(await watcher.reload()).toEqual({ version: a, changed: true });
    expect(await watcher.reload()).toEqual({ version: a, changed: false });
  });

  it("has the release store materialise a version this data dir lacks before it swaps, and retries when that fails", async () => {
    const elsewhere = await mkdtemp(join(tmpdir(), "council-watch-other-"));
    try {
      const other = await AdapterRegistry.create({ config: { dataDir: elsewhere } });
      await writeTestAdapter({ path: join(elsewhere, "x.gguf"), salt: "x" });
      const { version } = await other.publish({ adapterPath: join(elsewhere, "x.gguf"), training: {}, evaluation: { probes: [] } });
      const asked: string[] = [];
      let reachable = false;
      /** A shared record whose version folders live in "the database": other's data dir. */
      class SharingReleaseStore extends MemoryReleaseStore {
        async materialise(wanted: string): Promise<void> {
          asked.push(wanted);
          if (!reachable) throw new Error("database unreachable");
          await registry.publish({ adapterPath: join(other.paths.versions, wanted, "adapter.gguf"), training: {}, evaluation: { probes: [] } });
        }
      }
      const releases = new SharingReleaseStore({ registry: other });
      watcher = await AdapterWatcher.create({ registry, releases, useFsWatch: false, pollIntervalMs: 60_000 });
      const events: AdapterSwappedEvent[] = [];
      watcher.on("adapter-swapped", (event) => events.push(event));
      watcher.on("watch-failed", () => undefined);
      await releases.activate(version, { reason: "on another replica" });
      expect(await watcher.reload()).toEqual({ version: null, changed: false });
      expect(events).toEqual([]);
      reachable = true;
      expect(await watcher.reload()).toEqual({ version, changed: true });
      expect(asked).toEqual([version, version]);
      expect(events).toEqual([{ version, previous: null, adapterPath: join(registry.paths.versions, version, "adapter.gguf") }]);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it("keeps the last good version when current is pointed outside loras/", async () => {
    const a = await publish("a");
    await registry.activate(a, { reason: "1" });
    watcher = await AdapterWatcher.create({ registry, useFsWatch: false, pollIntervalMs: 60_000 });
    const failures: Error[] = [];
    watcher.on("watch-failed", (error) => failures.push(error));
    await symlink("/etc", join(root, "loras", "evil"));
    await rename(join(root, "loras", "evil"), registry.paths.current);
    await watcher.reload();
    expect(watcher.current()).toBe(a);
    expect(failures[0]).toMatchObject({ code: "PATH_UNSAFE" });
  });

  it("reports a broken current once (current-invalid), and null once it resolves again, even to the same version", async () => {
    const a = await publish("a");
    await registry.activate(a, { reason: "1" });
    watcher = await AdapterWatcher.create({ registry, useFsWatch: false, pollIntervalMs: 60_000 });
    const reports: Array<string | null> = [];
    const swaps: unknown[] = [];
    watcher.on("current-invalid", (error) => reports.push(error === null ? null : error.code));
    watcher.on("adapter-swapped", (event) => swaps.push(event));
    await symlink("versions/0123456789abcdef", join(root, "loras", "dangling"));
    await rename(join(root, "loras", "dangling"), registry.paths.current);
    await watcher.reload();
    await watcher.reload();
    expect(watcher.currentProblem()).toMatchObject({ code: "ADAPTER_NOT_FOUND" });
    await registry.activate(a, { reason: "repair" });
    await watcher.reload();
    expect(reports).toEqual(["ADAPTER_NOT_FOUND", null]);
    expect(watcher.currentProblem()).toBeNull();
    expect(watcher.current()).toBe(a);
    expect(swaps).toEqual([]);
  });

  it("emits canary-changed when canary.json changes", async () => {
    watcher = await AdapterWatcher.create({ registry, useFsWatch: true, pollIntervalMs: 50 });
    const changed = once(watcher, "canary-changed");
    const state = { version: "a".repeat(16), stable: null, weight: 10, step: 0, status: "running" as const, startedAt: "t", updatedAt: "t", reason: null };
    await writeCanaryState(registry.paths.loras, state);
    expect((await changed)[0]).toEqual(state);
  });
});
