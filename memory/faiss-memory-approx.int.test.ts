import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { FaissMemory } from "./faiss-memory.js";
import { makeTurn } from "./memory-store.contract.js";

const DIMS = 32;
const root = mkdtempSync(join(tmpdir(), "council-approx-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function clustered(n: number, seed: number): Float32Array {
  let state = seed;
  const random = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centres = Array.from({ length: 50 }, () => Array.from({ length: DIMS }, () => random() - 0.5));
  const out = new Float32Array(n * DIMS);
  for (let i = 0; i < n; i++) {
    const centre = centres[Math.floor(random() * centres.length)]!;
    let norm = 0;
    for (let d = 0; d < DIMS; d++) norm += (out[i * DIMS + d] = centre[d]! + (random() - 0.5) * 0.3) ** 2;
    for (let d = 0; d < DIMS; d++) out[i * DIMS + d]! /= Math.sqrt(norm);
  }
  return out;
}

function exactTop(data: Float32Array, n: number, query: Float32Array, k: number): string[] {
  const scores = Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let d = 0; d < DIMS; d++) s += data[i * DIMS + d]! * query[d]!;
    return { i, s };
  });
  return scores.sort((a, b) => b.s - a.s).slice(0, k).map(({ i }) => `v-${i}`);
}

it("moves from flat to IVF in the background past the threshold, keeps recall, survives a restart", async () => {
  const dir = join(root, "m");
  const approx = { threshold: 3000, nlist: 32, nprobe: 8 };
  const n = 4000;
  const data = clustered(n, 7);
  const items = (from: number, to: number) => Array.from({ length: to - from }, (_, j) => ({ turn: makeTurn({ traceId: `v-${from + j}` }), vector: data.subarray((from + j) * DIMS, (from + j + 1) * DIMS) }));

  let memory = await FaissMemory.create({ dir, dimensions: DIMS, approx });
  await memory.recordWithVectors(items(0, 2500));
  expect(memory.indexStats.kind).toBe("flat");
  await memory.recordWithVectors(items(2500, 3500));
  const upgraded = await memory.upgradeIndex();
  expect(upgraded).toMatchObject({ kind: "ivf", nlist: 32, nprobe: 8, rows: 3500 });

  await memory.recordWithVectors(items(3500, n));
  const queries = clustered(40, 99);
  let overlap = 0;
  for (let q = 0; q < 40; q++) {
    const query = queries.subarray(q * DIMS, (q + 1) * DIMS);
    const hits = await memory.searchByVector(query, { k: 10 });
    const exact = new Set(exactTop(data, n, query, 10));
    overlap += hits.filter((hit) => exact.has(hit.record.traceId)).length;
  }
  expect(overlap / 400).toBeGreaterThanOrEqual(0.9);
  await memory.dispose();

  memory = await FaissMemory.create({ dir, dimensions: DIMS, approx });
  expect(memory.indexStats).toMatchObject({ kind: "ivf", rows: n, rebuilt: null });
  await memory.dispose();

  writeFileSync(join(dir, "index.faiss"), "torn");
  memory = await FaissMemory.create({ dir, dimensions: DIMS, approx });
  expect(memory.indexStats.kind).toBe("ivf");
  expect(memory.indexStats.rebuilt).toMatch(/torn/);
  expect((await memory.searchByVector(data.subarray(5 * DIMS, 6 * DIMS), { k: 1 }))[0]?.record.traceId).toBe("v-5");
  await memory.dispose();
});
