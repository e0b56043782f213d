/**
 * Index types for memory search, raw faiss-node only (this process's main thread, OMP_NUM_THREADS=1 unless set):
 * the store's IVF (`IVF<nlist>_HNSW32,Flat`, nprobe for a 4096-vector scan budget, as faiss-worker.ts builds it)
 * against HNSW (`HNSW32`, inner product) at several efSearch values, on the same data and queries as
 * bench/memory-search.ts (synthetic clustered Gaussian, 384-d, 2000 centres). Recall@10 against exact search
 * (IndexFlatIP), p50/p99 wall, CPU ms per search, build seconds.
 *
 *   OMP_NUM_THREADS=1 nice -n 19 npx tsx bench/memory-index-types.ts --size 100000 [--ef 16,32,64,128] [--skip-ivf]
 *
 * Writes bench/results/memory-index-types-<date>-<size>.json.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, platform, release, totalmem, constants } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type * as Faiss from "faiss-node";
import { PROJECT_ROOT } from "../core/index.js";
import { hnswEfSearchOffset } from "./faiss-hnsw-layout.js";
import { clusteredData, rng } from "./memory-data.js";

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "100000" },
    queries: { type: "string", default: "200" },
    ef: { type: "string", default: "16,32,48,64,96,128" },
    m: { type: "string", default: "32" },
    "ef-construction": { type: "string", default: "40" },
    "skip-ivf": { type: "boolean", default: false },
    out: { type: "string", default: join(PROJECT_ROOT, "bench", "results") },
  },
});
const N = Number(values.size);
const QUERIES = Number(values.queries);
const DIMS = 384;
const K = 10;

for (const lib of ["libopenblas.so.0", "libblas.so.3"]) {
  try {
    process.dlopen({ exports: {} }, lib, 0x1000 | constants.dlopen.RTLD_NOW | constants.dlopen.RTLD_GLOBAL);
    break;
  } catch (error) {
    if (/self-register/.test(String((error as Error).message))) break;
  }
}
const faiss = createRequire(import.meta.url)("faiss-node") as typeof Faiss;

/** bench/memory-search.ts's generator (mulberry32, seed 42 + n), so recall is comparable. */
function makeData(n: number) {
  return clusteredData({ n, queries: QUERIES, dims: DIMS, random: rng(42 + n) });
}

function addInBatches(index: Faiss.Index, data: Float32Array): void {
  const batch = 20_000;
  for (let start = 0; start < N; start += batch) index.add(Array.from(data.subarray(start * DIMS, Math.min(N, start + batch) * DIMS)));
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function measure(index: Faiss.Index, queries: Float32Array, exact: number[][], count = QUERIES) {
  for (let q = 0; q < 10; q++) index.search(Array.from(queries.subarray(q * DIMS, (q + 1) * DIMS)), K);
  const ms: number[] = [];
  let hits = 0;
  const cpu = process.cpuUsage();
  for (let q = 0; q < count; q++) {
    const query = Array.from(queries.subarray(q * DIMS, (q + 1) * DIMS));
    const t = performance.now();
    const result = index.search(query, K);
    ms.push(performance.now() - t);
    const truth = new Set(exact[q]);
    hits += result.labels.filter((label) => truth.has(label)).length;
  }
  const used = process.cpuUsage(cpu);
  ms.sort((a, b) => a - b);
  return { p50_ms: +percentile(ms, 50).toFixed(3), p99_ms: +percentile(ms, 99).toFixed(3), cpu_ms_per_search: +((used.user + used.system) / 1000 / count).toFixed(3), recall_at_10: +(hits / (count * K)).toFixed(4) };
}

const loadStart = loadavg();
const t0 = performance.now();
const { data, queries } = makeData(N);
console.log(`data ${N} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const flat = new faiss.IndexFlatIP(DIMS);
addInBatches(flat, data);
const truth = flat.search(Array.from(queries), K).labels;
const exact = Array.from({ length: QUERIES }, (_, q) => truth.slice(q * K, (q + 1) * K));
const rows: Array<Record<string, unknown>> = [];
const record = (row: Record<string, unknown>) => {
  console.log(JSON.stringify(row));
  rows.push(row);
};
record({ index: "flat (exact)", ...measure(flat, queries, exact, Math.min(QUERIES, 50)), note: "first 50 queries only" });

if (!values["skip-ivf"]) {
  // faiss-worker.ts's choice: nlist ≈ 4·√rows (power of two, ≥ 39 training points per list), nprobe = 4096 / (rows / nlist).
  let nlist = 64;
  const target = 4 * Math.sqrt(N);
  while (nlist * 2 <= 16384 && Math.abs(nlist * 2 - target) < Math.abs(nlist - target)) nlist *= 2;
  while (nlist > 64 && nlist * 39 > N) nlist /= 2;
  const ivfStart = performance.now();
  const ivfCpu = process.cpuUsage();
  const trained = faiss.Index.fromFactory(DIMS, `IVF${nlist}_HNSW32,Flat`, 0);
  const samples = Math.min(N, nlist * 39);
  const step = Math.max(1, Math.floor(N / samples));
  const train = new Float32Array(samples * DIMS);
  for (let s = 0; s < samples; s++) train.set(data.subarray(s * step * DIMS, (s * step + 1) * DIMS), s * DIMS);
  trained.train(Array.from(train));
  const trainSeconds = (performance.now() - ivfStart) / 1000;
  addInBatches(trained, data);
  const buildSeconds = (performance.now() - ivfStart) / 1000;
  const ivfCpuUsed = process.cpuUsage(ivfCpu);
  const ivfCpuSeconds = (ivfCpuUsed.user + ivfCpuUsed.system) / 1e6;
  const ivfBuffer = trained.toBuffer();
  for (const nprobe of [Math.max(8, Math.round(4096 / (N / nlist))), Math.max(8, Math.round(2048 / (N / nlist)))]) {
    ivfBuffer.writeBigInt64LE(BigInt(nprobe), 45);
    const ivf = faiss.Index.fromBuffer(ivfBuffer);
    record({ index: `IVF${nlist}_HNSW32,Flat`, nprobe, train_seconds: +trainSeconds.toFixed(1), build_seconds: +buildSeconds.toFixed(1), build_cpu_seconds: +ivfCpuSeconds.toFixed(1), ...measure(ivf, queries, exact) });
  }
}

const m = Number(values.m);
const efConstruction = Number(values["ef-construction"]);
const hnswStart = performance.now();
const hnswCpu = process.cpuUsage();
const empty = faiss.Index.fromFactory(DIMS, `HNSW${m}`, 0).toBuffer();
const efc = hnswEfSearchOffset(empty) - 4;
empty.writeInt32LE(efConstruction, efc);
const hnsw = faiss.Index.fromBuffer(empty);
addInBatches(hnsw, data);
const hnswSeconds = (performance.now() - hnswStart) / 1000;
const hnswCpuUsed = process.cpuUsage(hnswCpu);
const hnswCpuSeconds = (hnswCpuUsed.user + hnswCpuUsed.system) / 1e6;
const buffer = hnsw.toBuffer();
const offset = hnswEfSearchOffset(buffer);
for (const ef of values.ef.split(",").map(Number)) {
  buffer.writeInt32LE(ef, offset);
  const index = faiss.Index.fromBuffer(buffer);
  record({ index: `HNSW${m}`, efConstruction, efSearch: ef, build_seconds: +hnswSeconds.toFixed(1), build_cpu_seconds: +hnswCpuSeconds.toFixed(1), bytes: buffer.byteLength, ...measure(index, queries, exact) });
}

const date = new Date().toISOString();
mkdirSync(values.out, { recursive: true });
const file = join(values.out, `memory-index-types-${date.slice(0, 10)}-${N}.json`);
const git = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
writeFileSync(
  file,
  `${JSON.stringify({ benchmark: "memory-index-types", date, commit: git, command: `OMP_NUM_THREADS=${process.env.OMP_NUM_THREADS ?? "(unset)"} npx tsx bench/memory-index-types.ts --size ${N} --queries ${QUERIES} --ef ${values.ef} --m ${m} --ef-construction ${efConstruction}`, machine: { cpu: cpus()[0]?.model, cores: cpus().length, memory_gib: Math.round(totalmem() / 2 ** 30), os: `${platform()} ${release()}`, node: process.version }, load_average_start: loadStart, load_average_end: loadavg(), entries: N, k: K, results: rows }, null, 2)}\n`,
);
console.log(`wrote ${file}`);
