import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { CouncilError, silentLogger } from "../core/index.js";
import { FaissMemory } from "./faiss-memory.js";
import { makeTurn } from "./memory-store.contract.js";
import { sqliteMemoryStore } from "./memory-stores.js";
import { HashEmbeddings } from "../models/index.js";

// faissThread "main": real faiss-node on this (the test process's main) thread. One file, one process
// (vitest forks): once faiss-node is loaded here, no test in this file may use the worker thread.
const DIMS = 16;
const root = mkdtempSync(join(tmpdir(), "council-faiss-main-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function unit(seed: number): Float32Array {
  let state = seed;
  const vector = Float32Array.from({ length: DIMS }, () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5);
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Microtask turns only: a reply from a worker thread needs a macrotask, a search on this thread does not. */
async function settledWithoutMacrotask(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let i = 0; i < 50 && !settled; i++) await Promise.resolve();
  return settled;
}

it("searches on the calling thread: the answer settles with no macrotask, and finds the nearest row", async () => {
  const memory = await FaissMemory.create({ dir: join(root, "a"), dimensions: DIMS, faissThread: "main" });
  try {
    await memory.recordWithVectors(Array.from({ length: 50 }, (_, i) => ({ turn: makeTurn({ traceId: `t-${i}` }), vector: unit(i + 1) })));
    const search = memory.searchIndex(unit(8), 3);
    expect(await settledWithoutMacrotask(search)).toBe(true);
    expect((await search).labels[0]).toBe(7);
    const hits = await memory.searchByVector(unit(21), { k: 2 });
    expect(hits[0]?.record.traceId).toBe("t-20");
  } finally {
    await memory.dispose();
  }
});

it("checks inputs before faiss-node sees them (a bad query is an error, not an abort)", async () => {
  const memory = await FaissMemory.create({ dir: join(root, "b"), dimensions: DIMS, faissThread: "main" });
  try {
    await memory.recordWithVectors([{ turn: makeTurn({ traceId: "only" }), vector: unit(3) }]);
    await expect(memory.searchIndex(new Float32Array(DIMS + 1), 1)).rejects.toMatchObject({ code: "VECTOR_INVALID" });
    const nan = unit(4);
    nan[2] = Number.NaN;
    await expect(memory.searchIndex(nan, 1)).rejects.toMatchObject({ code: "VECTOR_INVALID" });
    await expect(memory.recordWithVectors([{ turn: makeTurn({ traceId: "bad" }), vector: new Float32Array(DIMS).fill(Number.POSITIVE_INFINITY) }])).rejects.toBeInstanceOf(CouncilError);
    // The process (and faiss-node on this thread) is still fine.
    expect((await memory.searchIndex(unit(3), 5)).labels).toEqual([0]);
  } finally {
    await memory.dispose();
  }
});

it("builds IVF in a child process and reloads it on this thread; survives a restart", async () => {
  const dir = join(root, "c");
  const approx = { threshold: 1500, nlist: 16, nprobe: 16 };
  const items = Array.from({ length: 2000 }, (_, i) => ({ turn: makeTurn({ traceId: `v-${i}` }), vector: unit(i + 100) }));
  let memory = await FaissMemory.create({ dir, dimensions: DIMS, approx, faissThread: "main" });
  await memory.recordWithVectors(items);
  expect(await memory.upgradeIndex()).toMatchObject({ kind: "ivf", nlist: 16, rows: 2000 });
  // nprobe = nlist: the IVF search is exact, so the nearest row of each stored vector is itself.
  for (const i of [0, 999, 1999]) expect((await memory.searchIndex(unit(i + 100), 1)).labels[0]).toBe(i);
  await memory.dispose();
  memory = await FaissMemory.create({ dir, dimensions: DIMS, approx, faissThread: "main" });
  try {
    expect(memory.indexStats).toMatchObject({ kind: "ivf", rows: 2000, rebuilt: null });
    expect((await memory.searchIndex(unit(1234 + 100), 1)).labels[0]).toBe(1234);
  } finally {
    await memory.dispose();
  }
});

it("the sqlite memory store takes memory.faissThread from its config", async () => {
  const embeddings = new HashEmbeddings({ dimensions: DIMS });
  const context = { embeddings, logger: silentLogger };
  expect(() => sqliteMemoryStore.create({ dataDir: join(root, "e"), memory: { faissThread: "gpu" } } as Parameters<typeof sqliteMemoryStore.create>[0], context)).toThrow(/memory\.faissThread/);
  const store = (await sqliteMemoryStore.create({ dataDir: join(root, "e"), memory: { faissThread: "main" } } as Parameters<typeof sqliteMemoryStore.create>[0], context)) as FaissMemory;
  try {
    await store.record(makeTurn({ traceId: "cfg" }));
    expect(await settledWithoutMacrotask(store.searchIndex(await embeddings.embedQuery("anything"), 1))).toBe(true);
  } finally {
    await store.dispose();
  }
});

it("refuses the worker thread in a process whose main thread loaded faiss-node", async () => {
  const error = await FaissMemory.create({ dir: join(root, "d"), dimensions: DIMS }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(CouncilError);
  expect(error).toMatchObject({ code: "CONFIG_INVALID", message: expect.stringMatching(/already loaded in this process's main thread/) });
});
