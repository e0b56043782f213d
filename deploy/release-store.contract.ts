import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import type { CanaryState } from "./canary-state.js";
import { BASE_MODEL, type ReleaseStore } from "./release-store.js";
import { writeTestAdapter } from "./test-adapter.js";

/** Test support: opens a fresh, empty store over `registry` (the versions it may switch to). */
export type OpenReleaseStore = (registry: AdapterRegistry) => Promise<ReleaseStore>;

async function codeOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return isCouncilError(error) ? error.code : error;
  }
  return "resolved";
}

const canaryState = (version: string, stable: string | null, weight: number): CanaryState => ({
  version,
  stable,
  weight,
  step: 1,
  status: "running",
  startedAt: "2026-01-01T00:00:00.000Z",
  updatedAt: "2026-01-01T00:00:01.000Z",
  reason: null,
});

/** One contract for every ReleaseStore (file, postgres): the same calls must give the same record. */
export function releaseStoreContract(name: string, open: OpenReleaseStore): void {
  describe(`ReleaseStore contract: ${name}`, () => {
    let root: string;
    let registry: AdapterRegistry;
    let store: ReleaseStore;
    const versions: string[] = [];

    beforeEach(async () => {
      root = await mkdtemp(join(tmpdir(), "council-release-"));
      registry = await AdapterRegistry.create({ config: { dataDir: root } });
      versions.length = 0;
      for (const salt of ["a", "b", "c"]) {
        const path = join(root, `${salt}.gguf`);
        await writeTestAdapter({ path, salt });
        versions.push((await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version);
      }
      store = await open(registry);
    });
    afterEach(async () => {
      await store.dispose();
      await rm(root, { recursive: true, force: true });
    });

    it("starts empty: base model, no canary, no history", async () => {
      expect(await store.stable()).toEqual({ version: null, problem: null });
      expect(await store.previous()).toBeNull();
      expect(await store.canary()).toBeNull();
      expect(await store.history()).toEqual([]);
      expect(await codeOf(store.rollback({ reason: "manual" }))).toBe("ADAPTER_NOT_FOUND");
    });

    it("keeps the live canary as written, last write wins", async () => {
      const [v1, v2] = versions as [string, string];
      await store.setCanary(canaryState(v2, v1, 10));
      await store.setCanary(canaryState(v2, v1, 50));
      expect(await store.canary()).toEqual(canaryState(v2, v1, 50));
      await store.setCanary({ ...canaryState(v2, v1, 0), status: "rolled-back", reason: "latency" });
      expect((await store.canary())?.status).toBe("rolled-back");
    });

    it("activates and promotes with history; the old stable becomes previous; re-activating is a no-op", async () => {
      const [v1, v2] = versions as [string, string];
      expect(await store.activate(v1, { reason: "first" })).toEqual({ from: null, to: v1 });
      expect(await store.activate(v2, { reason: "canary passed", action: "promote" })).toEqual({ from: v1, to: v2 });
      expect(await store.activate(v2, { reason: "again" })).toEqual({ from: v2, to: v2 });
      expect((await store.stable()).version).toBe(v2);
      expect(await store.previous()).toBe(v1);
      expect((await store.history()).map(({ action, from, to, reason }) => ({ action, from, to, reason }))).toEqual([
        { action: "activate", from: null, to: v1, reason: "first" },
        { action: "promote", from: v1, to: v2, reason: "canary passed" },
      ]);
    });

    it("rolls back to previous, never re-deploys the removed version, and to a named version", async () => {
      const [v1, v2, v3] = versions as [string, string, string];
      for (const version of [v1, v2, v3]) await store.activate(version, { reason: "deploy" });
      expect(await store.rollback({ reason: "latency" })).toEqual({ from: v3, to: v2 });
      expect(await store.previous()).toBe(v1);
      expect(await store.rollback({ reason: "manual" })).toEqual({ from: v2, to: v1 });
      expect(await store.previous()).toBeNull();
      expect(await codeOf(store.rollback({ reason: "manual" }))).toBe("ADAPTER_NOT_FOUND");
      expect(await store.rollback({ to: v3, reason: "manual" })).toEqual({ from: v1, to: v3 });
      expect((await store.stable()).version).toBe(v3);
      expect((await store.history()).at(-1)).toMatchObject({ action: "rollback", from: v1, to: v3 });
    });

    it("rolls back to the base model after a first promotion (no previous version): no adapter, no previous", async () => {
      const [v1] = versions as [string];
      expect(await codeOf(store.rollback({ to: BASE_MODEL, reason: "manual" }))).toBe("ADAPTER_NOT_FOUND");
      await store.activate(v1, { reason: "promote", action: "promote" });
      expect(await codeOf(store.rollback({ reason: "manual" }))).toBe("ADAPTER_NOT_FOUND");
      expect(await store.rollback({ to: BASE_MODEL, reason: "manual: hurts" })).toEqual({ from: v1, to: null });
      expect(await store.stable()).toEqual({ version: null, problem: null });
      expect(await store.previous()).toBeNull();
      expect((await store.history()).at(-1)).toMatchObject({ action: "rollback", from: v1, to: BASE_MODEL, reason: "manual: hurts" });
      expect(await codeOf(store.rollback({ to: BASE_MODEL, reason: "again" }))).toBe("ADAPTER_NOT_FOUND");
      // Deploying again works as from a fresh start.
      expect(await store.activate(v1, { reason: "redeploy" })).toEqual({ from: null, to: v1 });
    });

    it("refuses versions the registry does not hold", async () => {
      expect(await codeOf(store.activate("0123456789abcdef", { reason: "x" }))).toBe("ADAPTER_NOT_FOUND");
      expect(await codeOf(store.rollback({ to: "0123456789abcdef", reason: "x" }))).toBe("ADAPTER_NOT_FOUND");
      expect((await store.stable()).version).toBeNull();
    });
  });
}
