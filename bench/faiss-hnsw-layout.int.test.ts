import { createRequire } from "node:module";
import { expect, it } from "vitest";
import type * as Faiss from "faiss-node";
import { hnswEfSearchOffset } from "./faiss-hnsw-layout.js";

// Real faiss-node on this test process's main thread (vitest forks: no worker thread loads it here).
const faiss = createRequire(import.meta.url)("faiss-node") as typeof Faiss;
const DIMS = 8;

function vectors(n: number, seed: number): number[] {
  let state = seed;
  return Array.from({ length: n * DIMS }, () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5);
}

it("finds efSearch (16) and efConstruction (40) in a real HNSW32 index, empty or filled", () => {
  const index = faiss.Index.fromFactory(DIMS, "HNSW32", 0);
  let buffer = index.toBuffer();
  let offset = hnswEfSearchOffset(buffer);
  expect([buffer.readInt32LE(offset - 4), buffer.readInt32LE(offset)]).toEqual([40, 16]);
  index.add(vectors(500, 1));
  buffer = index.toBuffer();
  offset = hnswEfSearchOffset(buffer);
  expect([buffer.readInt32LE(offset - 4), buffer.readInt32LE(offset)]).toEqual([40, 16]);
});

it("a patched efSearch is what faiss reads back, and the patched index still searches", () => {
  const data = vectors(300, 2);
  const empty = faiss.Index.fromFactory(DIMS, "HNSW32", 0).toBuffer();
  empty.writeInt32LE(64, hnswEfSearchOffset(empty));
  const index = faiss.Index.fromBuffer(empty);
  index.add(data);
  const saved = index.toBuffer();
  expect(saved.readInt32LE(hnswEfSearchOffset(saved))).toBe(64);
  const query = data.slice(17 * DIMS, 18 * DIMS);
  expect(faiss.Index.fromBuffer(saved).search(query, 1).labels[0]).toBe(17);
});

it("refuses bytes that are not an HNSW flat index instead of patching the wrong place", () => {
  expect(() => hnswEfSearchOffset(new faiss.IndexFlatIP(DIMS).toBuffer())).toThrow(/not an HNSW flat index/);
  const buffer = faiss.Index.fromFactory(DIMS, "HNSW32", 0).toBuffer();
  expect(() => hnswEfSearchOffset(buffer.subarray(0, 60))).toThrow(/truncated/);
  const wrong = Buffer.from(buffer);
  wrong.writeBigUInt64LE(1n << 40n, 37); // assign_probas claims 2^40 items
  expect(() => hnswEfSearchOffset(wrong)).toThrow(/truncated/);
});
