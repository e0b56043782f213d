import { chmod, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics, type CouncilMetrics } from "../core/index.js";
import { AdapterRegistry, type ProbeGenerate } from "../deploy/index.js";
import { writeTestAdapter } from "../deploy/test-adapter.js";
import type { AdapterHost, AdapterSlotInfo } from "../models/index.js";
import { writeAdapterScope } from "../training/index.js";
import { startAdapterServing, type AdapterServing } from "./adapter-serving.js";

/** An AdapterHost fake: slots in a map; `generate` answers "adapter" from a loaded slot, else "base". */
class FakeAdapterHost implements AdapterHost {
  readonly slots = new Map<string, AdapterSlotInfo>();
  async setAdapter({ slot, path, version, scale = 1 }: { slot: string; path: string; version: string; scale?: number }) {
    const info = { slot, path, version, scale };
    this.slots.set(slot, info);
    return info;
  }
  async removeAdapter(slot: string) {
    this.slots.delete(slot);
  }
  adapters() {
    return [...this.slots.values()];
  }
}

let root: string;
let registry: AdapterRegistry;
let host: FakeAdapterHost;
let metrics: CouncilMetrics;
let serving: AdapterServing | undefined;

const generate: ProbeGenerate = async (_prompt, slot) => (slot !== null && host.slots.has(slot) ? "adapter" : "base");
const start = () => startAdapterServing({ registry, host, generate, metrics, base: "test", pollIntervalMs: 60_000 });
const invalidGauge = async () => (await metrics.adapterCurrentInvalid.get()).values[0]?.value;

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [{ prompt: "which adapter", output: "adapter" }] } })).version;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-serving-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
  host = new FakeAdapterHost();
  metrics = createMetrics();
});
afterEach(async () => {
  await serving?.dispose();
  serving = undefined;
  await rm(root, { recursive: true, force: true });
});

describe("startAdapterServing with a broken loras/current", () => {
  for (const [kind, target] of [
    ["dangling", "versions/0123456789abcdef"],
    ["outside", "/etc"],
  ] as const) {
    it(`starts on the base model with council_adapter_current_invalid 1 (${kind}), and serves the repaired current`, async () => {
      const version = await publish("a");
      await symlink(target, registry.paths.current);
      serving = await start();
      expect(host.slots.size).toBe(0);
      expect(await invalidGauge()).toBe(1);
      expect(serving.selectAdapter({ userId: "u", sessionId: "s", question: "q" })).toBeNull();
      await registry.rollback({ to: version, reason: "manual: repair" });
      await serving.reload();
      await serving.dispose(); // waits for the swap it triggered
      serving = undefined;
      expect(host.slots.get("stable")?.version).toBe(version);
      expect(await invalidGauge()).toBe(0);
    });
  }

  it("refuses to load a current whose adapter.gguf links outside its version, and raises the gauge", async () => {
    const version = await publish("a");
    await registry.activate(version, { reason: "1" });
    const file = join(registry.paths.versions, version, "adapter.gguf");
    const outside = join(root, "outside.gguf");
    await writeTestAdapter({ path: outside, salt: "a" });
    await chmod(file, 0o644);
    await rm(file);
    await symlink(outside, file);
    serving = await start();
    expect(host.slots.size).toBe(0);
    expect(await invalidGauge()).toBe(1);
  });

  it("serves a healthy current with the gauge at 0", async () => {
    const version = await publish("a");
    await registry.activate(version, { reason: "1" });
    serving = await start();
    expect(host.slots.get("stable")?.version).toBe(version);
    expect(await invalidGauge()).toBe(0);
  });
});

describe("startAdapterServing with a scoped adapter", () => {
  it("routes only questions inside the adapter's scope to it; the base model answers the rest (council_adapter_scope_total)", async () => {
    const path = join(root, "scoped.gguf");
    await writeTestAdapter({ path, salt: "scoped" });
    await writeAdapterScope(path, { questions: ["How do I list files one per line using ls?"], minSimilarity: 0.5 });
    const { version } = await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [{ prompt: "which adapter", output: "adapter" }] } });
    await registry.activate(version, { reason: "1" });
    serving = await start();
    expect(serving.selectAdapter({ userId: "u", sessionId: "s", question: "how do I list files one per line using ls" })).toEqual({ slot: "stable", version });
    expect(serving.selectAdapter({ userId: "u", sessionId: "s", question: "How do I list all files including hidden ones using ls?" })).toEqual({ slot: "stable", version, outsideScope: true });
    const counts = Object.fromEntries((await metrics.adapterScope.get()).values.map((value) => [value.labels.decision, value.value]));
    expect(counts).toEqual({ inside: 1, outside: 1 });
  });

  it("an adapter without a scope serves every question", async () => {
    const version = await publish("unscoped");
    await registry.activate(version, { reason: "1" });
    serving = await start();
    expect(serving.selectAdapter({ userId: "u", sessionId: "s", question: "anything at all" })).toEqual({ slot: "stable", version });
  });
});
