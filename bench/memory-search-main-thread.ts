/**
 * Child of bench/memory-search.ts: the store with `faissThread: "main"` (faiss-node on the event loop), on the
 * parent's memory folder, in its own process (faiss-node may not load in two threads of one). Reads
 * "<from> <to> <variant>" lines (variant index_main | store_main), answers one JSON line per batch: wall ms
 * per search, CPU ms, event-loop active ms and event-loop delay (1 ms monitor) while the batch ran, labels.
 *
 *   tsx bench/memory-search-main-thread.ts '<json: [dir, queriesPath, dims, k]>'
 */
import { readFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { FaissMemory } from "../memory/index.js";

const [dir, queriesPath, dims, k] = JSON.parse(process.argv[process.argv.length - 1]!) as [string, string, number, number];
const raw = readFileSync(queriesPath);
const queries = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const memory = await FaissMemory.create({ dir, dimensions: dims, faissThread: "main" });
const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
say({ stats: memory.indexStats });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  const [fromText, toText, variant] = line.split(" ");
  if (variant === "stop") break;
  const from = Number(fromText);
  const to = Number(toText);
  const ms: number[] = [];
  const labels: number[][] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  for (let q = from; q < to; q++) {
    const query = queries.subarray(q * dims, (q + 1) * dims);
    const t = performance.now();
    if (variant === "index_main") {
      labels.push((await memory.searchIndex(query, k)).labels);
      ms.push(performance.now() - t);
    } else {
      const hits = await memory.searchByVector(query, { k });
      ms.push(performance.now() - t);
      labels.push(hits.map((hit) => Number(hit.record.traceId.slice(2))));
    }
    // Let timers run between searches, as a server's loop would (and the delay monitor can sample).
    await new Promise((resolve) => setImmediate(resolve));
  }
  const used = process.cpuUsage(cpu);
  const active = performance.eventLoopUtilization(elu).active;
  loop.disable();
  say({ ms, labels, cpuMs: (used.user + used.system) / 1000, activeMs: active, loopMaxMs: loop.max / 1e6, loopP99Ms: loop.percentile(99) / 1e6 });
}
await memory.dispose();
