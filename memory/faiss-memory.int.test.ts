import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { FaissMemory } from "./faiss-memory.js";
import { describeMemoryStoreContract, makeTurn } from "./memory-store.contract.js";

const root = mkdtempSync(join(tmpdir(), "council-faiss-memory-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => join(root, `m${dirs++}`);

describeMemoryStoreContract("FaissMemory", ({ now }) => FaissMemory.create({ dir: freshDir(), now }));

describe("FaissMemory on real faiss-node and SQLite", () => {
  it("finds every recorded turn and every feedback flip after a restart", async () => {
    const dir = freshDir();
    let memory = await FaissMemory.create({ dir, now: () => 9_000 });
    const turns = Array.from({ length: 40 }, (_, i) => makeTurn({ question: `how do I fix problem ${i} with the vpn`, createdAt: 1000 + i }));
    for (const turn of turns) await memory.record(turn);
    const flipped = turns.filter((_, i) => i % 3 === 0);
    for (const turn of flipped) await memory.setFeedback(turn.traceId, { rating: -1, correction: `fix ${turn.traceId}`, at: 8_000 });
    await memory.dispose();

    memory = await FaissMemory.create({ dir });
    try {
      for (const turn of turns) expect((await memory.get(turn.traceId))?.question).toBe(turn.question);
      expect((await memory.failures()).map((t) => t.traceId)).toEqual(flipped.map((t) => t.traceId));
      expect(memory.counts()).toEqual({ total: 40, success: 40 - flipped.length, failure: flipped.length });
      const hits = await memory.search("fix problem 7 with the vpn", { k: 3 });
      expect(hits[0]!.record.traceId).toBe(turns[7]!.traceId);
      expect(memory.indexStats).toMatchObject({ rows: 40, kind: "flat" });
    } finally {
      await memory.dispose();
    }
  });

  it("rebuilds from SQLite when the index file is torn or missing, never loading it as good", async () => {
    const dir = freshDir();
    let memory = await FaissMemory.create({ dir });
    const turn = makeTurn({ question: "outlook calendar sync broken" });
    await memory.record(turn);
    await memory.record(makeTurn({ question: "printer toner empty" }));
    await memory.dispose();
    writeFileSync(join(dir, "index.faiss"), Buffer.from("IxFItorn"));
    memory = await FaissMemory.create({ dir });
    expect((await memory.search("calendar sync in outlook", { k: 1 }))[0]?.record.traceId).toBe(turn.traceId);
    await memory.dispose();
    rmSync(join(dir, "index.faiss"));
    memory = await FaissMemory.create({ dir });
    expect(memory.indexStats.rows).toBe(2);
    await memory.dispose();
  });

  it("a second instance on the same folder (another process) sees turns the first records", async () => {
    const dir = freshDir();
    const writer = await FaissMemory.create({ dir });
    const reader = await FaissMemory.create({ dir });
    try {
      await writer.record(makeTurn({ question: "shared drive not mapped" }));
      expect((await reader.search("shared drive mapped", { k: 1 }))[0]?.record.question).toBe("shared drive not mapped");
    } finally {
      await reader.dispose();
      await writer.dispose();
    }
  });

  it("rejects vectors of the wrong size or with NaN before they reach faiss-node", async () => {
    const memory = await FaissMemory.create({ dir: freshDir(), dimensions: 16 });
    try {
      const bad = [new Array(15).fill(0.1), [...new Array(15).fill(0.1), Number.NaN], [...new Array(15).fill(0.1), 1e39]];
      for (const vector of bad) {
        const error = await memory.recordWithVectors([{ turn: makeTurn(), vector }]).catch((e: unknown) => e);
        expect(isCouncilError(error, "VECTOR_INVALID")).toBe(true);
        const query = await memory.searchByVector(vector).catch((e: unknown) => e);
        expect(isCouncilError(query, "VECTOR_INVALID")).toBe(true);
      }
      expect(memory.counts().total).toBe(0);
    } finally {
      await memory.dispose();
    }
  });

  it("refuses a memory folder built with other embeddings", async () => {
    const dir = freshDir();
    const memory = await FaissMemory.create({ dir });
    await memory.record(makeTurn());
    await memory.dispose();
    const error = await FaissMemory.create({ dir, dimensions: 128 }).catch((e: unknown) => e);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
  });

  it("reports an unwritable memory folder as CONFIG_INVALID instead of crashing", async () => {
    const file = join(root, "a-file");
    writeFileSync(file, "x");
    const error = await FaissMemory.create({ dir: join(file, "sub") }).catch((e: unknown) => e);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
  });
});

describe("FaissMemory.searchIndex (the index alone, for the memory-search bench's breakdown)", () => {
  it("returns FAISS labels (row id − 1) and the scores searchByVector hydrates, and validates the query", async () => {
    const memory = await FaissMemory.create({ dir: freshDir(), dimensions: 16 });
    const unit = (...values: number[]) => Float32Array.from({ length: 16 }, (_, i) => values[i] ?? 0);
    try {
      const turns = [0, 1, 2].map((i) => makeTurn({ question: `q${i}`, createdAt: 1000 + i }));
      const vectors = [unit(1), unit(0, 1), unit(0.6, 0.8)];
      await memory.recordWithVectors(turns.map((turn, i) => ({ turn, vector: vectors[i]! })));
      const index = await memory.searchIndex(unit(0, 1), 2);
      expect(index.labels).toEqual([1, 2]);
      const hits = await memory.searchByVector(unit(0, 1), { k: 2 });
      expect(hits.map((hit) => hit.record.traceId)).toEqual([turns[1]!.traceId, turns[2]!.traceId]);
      expect(index.distances).toEqual(hits.map((hit) => hit.score));
      await expect(memory.searchIndex([1, 0, 0], 2)).rejects.toMatchObject({ code: "VECTOR_INVALID" });
    } finally {
      await memory.dispose();
    }
  });
});
