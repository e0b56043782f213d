// The child processes bench/memory-search.ts measures beside its own (worker-thread) store: raw faiss-node, and the
// store with faissThread "main". Each in its own process: faiss-node may not load in two threads of one.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { PROJECT_ROOT } from "../core/index.js";

/** Raw faiss-node in a child process's main thread (faiss-node must not load in a second thread of this one). */
const RAW_SOURCE = `"use strict";
const fs = require("node:fs"), os = require("node:os"), readline = require("node:readline");
const [faissPath, indexPath, queriesPath, dims, k] = JSON.parse(process.argv[process.argv.length - 1]);
for (const lib of ["libopenblas.so.0", "libblas.so.3", "libopenblas.so", "libblas.so"]) {
  try { process.dlopen({ exports: {} }, lib, 0x1000 | os.constants.dlopen.RTLD_NOW | os.constants.dlopen.RTLD_GLOBAL); break; }
  catch (error) { if (/self-register/.test(String(error && error.message))) break; }
}
const faiss = require(faissPath);
const index = faiss.Index.read(indexPath);
const raw = fs.readFileSync(queriesPath);
const queries = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const threads = () => fs.readdirSync("/proc/self/task").length;
const say = (value) => process.stdout.write(JSON.stringify(value) + "\\n");
say({ ntotal: index.ntotal(), threads: threads() });
readline.createInterface({ input: process.stdin }).on("line", (line) => {
  const [from, to] = line.split(" ").map(Number);
  const ms = [], labels = [];
  const cpu = process.cpuUsage();
  for (let q = from; q < to; q++) {
    const t = performance.now();
    const result = index.search(Array.from(queries.subarray(q * dims, (q + 1) * dims)), k);
    ms.push(performance.now() - t);
    labels.push(result.labels);
  }
  const used = process.cpuUsage(cpu);
  say({ ms, labels, threads: threads(), cpuMs: (used.user + used.system) / 1000 });
});`;

export async function rawSearcher(indexPath: string, queriesPath: string, ompThreads: string | undefined, DIMS: number, K: number) {
  const env = { ...process.env };
  delete env.OMP_NUM_THREADS;
  if (ompThreads !== undefined) env.OMP_NUM_THREADS = ompThreads;
  const faissPath = createRequire(import.meta.url).resolve("faiss-node");
  const child = spawn(process.execPath, ["-e", RAW_SOURCE, JSON.stringify([faissPath, indexPath, queriesPath, DIMS, K])], { env, stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async <T>() => JSON.parse(((await lines.next()).value as string | undefined) ?? "null") as T;
  await next<{ ntotal: number }>();
  return {
    async run(from: number, to: number) {
      child.stdin!.write(`${from} ${to}\n`);
      return next<{ ms: number[]; labels: number[][]; threads: number; cpuMs: number }>();
    },
    stop: () => child.kill(),
  };
}

/** The store with faissThread "main", in a child process (bench/memory-search-main-thread.ts, run by the same tsx). */
export async function mainSearcher(dir: string, queriesPath: string, DIMS: number, K: number) {
  const script = join(PROJECT_ROOT, "bench", "memory-search-main-thread.ts");
  const child = spawn(process.execPath, [...process.execArgv, script, JSON.stringify([dir, queriesPath, DIMS, K])], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async <T>() => JSON.parse(((await lines.next()).value as string | undefined) ?? "null") as T;
  await next<{ stats: unknown }>();
  return {
    async run(from: number, to: number, variant: "index_main" | "store_main") {
      child.stdin!.write(`${from} ${to} ${variant}\n`);
      return next<{ ms: number[]; labels: number[][]; cpuMs: number; activeMs: number; loopMaxMs: number; loopP99Ms: number }>();
    },
    stop: () => new Promise((resolve) => child.once("close", resolve).stdin!.end("0 0 stop\n")),
  };
}
