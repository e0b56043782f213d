import { mkdtemp, rm, symlink, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdapterRegistry } from "./adapter-registry.js";
import { writeTestAdapter } from "./test-adapter.js";

const READS = 100_000;
const SWAPS = 1_000;

/**
 * A reader thread doing what a serving process does to load the current adapter: realpath(loras/current),
 * check it is inside loras/versions, open adapter.gguf and read its magic. Any failure is a miss.
 * Counters live in shared memory: [reads, misses, stop, sawA, sawB].
 */
const READER = `
const { workerData } = require("node:worker_threads");
const fs = require("node:fs");
const path = require("node:path");
const counters = new Int32Array(workerData.shared);
const buffer = Buffer.alloc(4);
while (Atomics.load(counters, 2) === 0) {
  try {
    const real = fs.realpathSync(workerData.current);
    if (path.dirname(real) !== workerData.versions) throw new Error("outside versions: " + real);
    const fd = fs.openSync(path.join(real, "adapter.gguf"), "r");
    try {
      if (fs.readSync(fd, buffer, 0, 4, 0) !== 4 || buffer.toString("latin1") !== "GGUF") throw new Error("bad magic");
    } finally {
      fs.closeSync(fd);
    }
    Atomics.add(counters, path.basename(real) === workerData.a ? 3 : 4, 1);
  } catch (error) {
    Atomics.add(counters, 1, 1);
  }
  Atomics.add(counters, 0, 1);
}
`;

let root: string;
let registry: AdapterRegistry;
let versions: [string, string];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "council-swap-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
  const published: string[] = [];
  for (const salt of ["a", "b"]) {
    const path = join(root, `${salt}.gguf`);
    await writeTestAdapter({ path, salt });
    published.push((await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version);
  }
  versions = published as [string, string];
});
afterAll(() => rm(root, { recursive: true, force: true }));

async function raceReads(swap: (index: number) => Promise<void>): Promise<{ reads: number; misses: number; sawA: number; sawB: number; swaps: number }> {
  await registry.activate(versions[0], { reason: "start" });
  const shared = new SharedArrayBuffer(5 * 4);
  const counters = new Int32Array(shared);
  const realVersions = join(root, "loras", "versions");
  const worker = new Worker(READER, { eval: true, workerData: { shared, current: registry.paths.current, versions: realVersions, a: versions[0] } });
  const exited = new Promise((resolve) => worker.once("exit", resolve));
  let swaps = 0;
  // Spread the swaps over the reads: swap k waits for k × (READS / SWAPS) reads.
  for (let k = 1; k <= SWAPS; k++) {
    while (Atomics.load(counters, 0) < (k * READS) / SWAPS) await new Promise((resolve) => setImmediate(resolve));
    await swap(k);
    swaps++;
  }
  while (Atomics.load(counters, 0) < READS) await new Promise((resolve) => setImmediate(resolve));
  Atomics.store(counters, 2, 1);
  await exited;
  return { reads: Atomics.load(counters, 0), misses: Atomics.load(counters, 1), sawA: Atomics.load(counters, 3), sawB: Atomics.load(counters, 4), swaps };
}

describe("loras/current under concurrent swaps (real filesystem)", () => {
  it(`${READS} reads during ${SWAPS} atomic swaps: zero misses`, async () => {
    const started = performance.now();
    const result = await raceReads((k) => registry.activate(versions[k % 2]!, { reason: `swap ${k}` }).then(() => undefined));
    console.log(`swap race: ${JSON.stringify(result)} in ${Math.round(performance.now() - started)} ms`);
    expect(result.swaps).toBe(SWAPS);
    expect(result.reads).toBeGreaterThanOrEqual(READS);
    expect(result.sawA).toBeGreaterThan(0);
    expect(result.sawB).toBeGreaterThan(0);
    expect(result.misses).toBe(0);
    expect((await registry.history()).length).toBeGreaterThanOrEqual(SWAPS);
  });

  it("the same race with unlink-then-symlink (what `ln -sfn` does) misses: the test can fail", async () => {
    const result = await raceReads(async (k) => {
      await unlink(registry.paths.current);
      await symlink(join("versions", versions[k % 2]!), registry.paths.current);
    });
    console.log(`naive swap race: ${JSON.stringify(result)}`);
    expect(result.misses).toBeGreaterThan(0);
  });
});
