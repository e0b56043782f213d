import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { FaissMemory } from "./faiss-memory.js";
import { openMemory } from "./open-from-config.js";

const dataDir = mkdtempSync(join(tmpdir(), "council-store-sqlite-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe("the default memory store (sqlite) on real faiss-node and SQLite", () => {
  it("opens FaissMemory under <dataDir>/data/memory, and a recorded turn survives reopening", async () => {
    const config = loadConfig({ env: { COUNCIL_DATA_DIR: dataDir } });
    const embeddings = new HashEmbeddings({ dimensions: 32 });
    const first = await openMemory({ config, embeddings });
    expect(first).toBeInstanceOf(FaissMemory);
    const now = Date.now();
    await first.record({
      traceId: "t-1",
      sessionId: "s-1",
      userId: "u",
      question: "how do I reset my password?",
      answer: "Settings, then Reset.",
      route: "account",
      model: "seedling",
      adapter: null,
      score: 0.9,
      category: null,
      reasons: [],
      success: true,
      feedback: null,
      latencyMs: 12,
      tokens: 5,
      createdAt: now,
      updatedAt: now,
    });
    await first.dispose();
    const second = await openMemory({ config, embeddings });
    expect((await second.get("t-1"))?.answer).toBe("Settings, then Reset.");
    expect((await second.search("reset password", { k: 1 }))[0]?.record.traceId).toBe("t-1");
    await second.dispose();
  });
});
