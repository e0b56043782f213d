import { describe, expect, it } from "vitest";
import { createMetrics } from "../core/index.js";
import type { AdapterHost, AdapterSlotInfo } from "../models/types.js";
import { loadAndProve, proveServing, type ProbeGenerate } from "./serving-prover.js";

const probes = [
  { prompt: "list files", output: "ls -la" },
  { prompt: "disk usage", output: "du -sh ." },
];

/** An AdapterHost fake: slots in a map; generation answers from the table of the version in the slot. */
class FakeAdapterHost implements AdapterHost {
  readonly slots = new Map<string, AdapterSlotInfo>();
  readonly calls: string[] = [];
  async setAdapter({ slot, path, version, scale = 1 }: { slot: string; path: string; version: string; scale?: number }) {
    this.calls.push(`set ${slot} ${version}`);
    const info = { slot, path, version, scale };
    this.slots.set(slot, info);
    return info;
  }
  async removeAdapter(slot: string) {
    this.calls.push(`remove ${slot}`);
    this.slots.delete(slot);
  }
  adapters() {
    return [...this.slots.values()];
  }
}

const answersByVersion: Record<string, Record<string, string>> = {
  good: { "list files": "ls -la\n", "disk usage": "du -sh ." },
  stale: { "list files": "ls", "disk usage": "du -sh ." },
};

const generateFor = (host: FakeAdapterHost): ProbeGenerate => async (prompt, slot) => {
  const version = slot === null ? "base" : host.slots.get(slot)?.version;
  const answer = version === undefined ? undefined : answersByVersion[version]?.[prompt];
  if (answer === undefined) throw new Error(`unscripted ${version} ${prompt}`);
  return answer;
};

describe("proveServing", () => {
  it("passes when every probe output matches the eval-time output", async () => {
    const host = new FakeAdapterHost();
    await host.setAdapter({ slot: "stable", path: "/x", version: "good" });
    expect(await proveServing({ version: "good", slot: "stable", probes, generate: generateFor(host) })).toMatchObject({ probes: 2, matched: 2, mismatches: [] });
  });

  it("throws ADAPTER_STALE and counts it when the slot answers differently", async () => {
    const host = new FakeAdapterHost();
    await host.setAdapter({ slot: "stable", path: "/x", version: "stale" });
    const metrics = createMetrics({ defaultMetrics: false });
    await expect(proveServing({ version: "good", slot: "stable", probes, generate: generateFor(host), metrics })).rejects.toMatchObject({
      code: "ADAPTER_STALE",
      details: { mismatches: [{ prompt: "list files", expected: "ls -la", actual: "ls" }] },
    });
    expect((await metrics.registry.getSingleMetric("council_adapter_probe_failures_total")!.get()).values[0]?.value).toBe(1);
  });

  it("refuses to call an adapter proven without probes", async () => {
    await expect(proveServing({ version: "good", slot: "s", probes: [], generate: async () => "" })).rejects.toMatchObject({ code: "ADAPTER_STALE" });
  });
});

describe("loadAndProve", () => {
  it("loads into the slot and proves it", async () => {
    const host = new FakeAdapterHost();
    const { slot } = await loadAndProve({ host, slot: "stable", version: "good", adapterPath: "/v/good", probes, generate: generateFor(host) });
    expect(slot).toMatchObject({ slot: "stable", version: "good" });
  });

  it("puts the last good adapter back when the new one is not provably serving", async () => {
    const host = new FakeAdapterHost();
    await host.setAdapter({ slot: "stable", path: "/v/good", version: "good" });
    await expect(loadAndProve({ host, slot: "stable", version: "stale", adapterPath: "/v/stale", probes, generate: generateFor(host) })).rejects.toMatchObject({ code: "ADAPTER_STALE" });
    expect(host.slots.get("stable")).toMatchObject({ version: "good", path: "/v/good" });
    const fresh = new FakeAdapterHost();
    await expect(loadAndProve({ host: fresh, slot: "canary", version: "stale", adapterPath: "/v/stale", probes, generate: generateFor(fresh) })).rejects.toMatchObject({ code: "ADAPTER_STALE" });
    expect(fresh.calls).toEqual(["set canary stale", "remove canary"]);
  });
});
