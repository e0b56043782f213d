import { describe, expect, it } from "vitest";
import { Registry, createMetrics } from "../core/index.js";
import { InMemoryStore } from "./in-memory-store.js";
import { describeMemoryStoreContract, makeTurn } from "./memory-store.contract.js";

describeMemoryStoreContract("InMemoryStore", ({ now }) => InMemoryStore.create({ now }));

describe("InMemoryStore", () => {
  it("publishes council_memory_entries by success flag", async () => {
    const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
    const store = await InMemoryStore.create({ metrics });
    const turn = makeTurn();
    await store.record(turn);
    await store.record(makeTurn({ success: false }));
    await store.setFeedback(turn.traceId, { rating: -1, at: 1 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('council_memory_entries{success="false"} 2');
    expect(text).toContain('council_memory_entries{success="true"} 0');
  });

  it("refuses calls after dispose", async () => {
    const store = await InMemoryStore.create();
    await store.dispose();
    await expect(store.record(makeTurn())).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });
});
