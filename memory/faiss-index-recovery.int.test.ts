import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "../core/index.js";
import { FaissMemory } from "./faiss-memory.js";
import { makeTurn } from "./memory-store.contract.js";

const root = mkdtempSync(join(tmpdir(), "council-faiss-recovery-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;

/** A memory folder with two turns and a clean saved index; returns it and the turn to search for. */
async function savedMemory() {
  const dir = join(root, `m${dirs++}`);
  const memory = await FaissMemory.create({ dir });
  const turn = makeTurn({ question: "outlook calendar sync broken" });
  await memory.record(turn);
  await memory.record(makeTurn({ question: "printer toner empty" }));
  await memory.dispose();
  return { dir, traceId: turn.traceId };
}

/** Replaces index.faiss with `bytes` and fixes index.meta.json's size and checksum, so the file passes them. */
function replaceIndexKeepingChecksum(dir: string, bytes: Buffer): void {
  writeFileSync(join(dir, "index.faiss"), bytes);
  const metaPath = join(dir, "index.meta.json");
  const meta = JSON.parse(readFileSync(metaPath, "utf8")) as Record<string, unknown>;
  writeFileSync(metaPath, JSON.stringify({ ...meta, bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") }));
}

/** Another saved FAISS index (from a second memory folder) with `dimensions`. */
async function foreignIndex(dimensions: number): Promise<Buffer> {
  const dir = join(root, `foreign${dirs++}`);
  const memory = await FaissMemory.create({ dir, dimensions });
  await memory.record(makeTurn({ question: "a" }));
  await memory.record(makeTurn({ question: "b" }));
  await memory.dispose();
  return readFileSync(join(dir, "index.faiss"));
}

describe("FaissMemory rebuilds from SQLite when a checksum-valid index file cannot be used (real faiss-node)", () => {
  it("loads a clean saved index without rebuilding", async () => {
    const { dir } = await savedMemory();
    const memory = await FaissMemory.create({ dir });
    try {
      expect(memory.indexStats).toMatchObject({ rows: 2, kind: "flat", rebuilt: null });
    } finally {
      await memory.dispose();
    }
  });

  const corruptions: Array<[string, (original: Buffer) => Promise<Buffer>, RegExp]> = [
    ["garbage bytes", async (original) => Buffer.alloc(original.length, "not a faiss index "), /not a flat FAISS index/],
    ["an index of another dimension", () => foreignIndex(16), /dimension 16/],
    [
      "a header this libfaiss accepts but a body it cannot read (a format change)",
      async (original) => {
        const bytes = Buffer.from(original);
        bytes.writeBigUInt64LE(bytes.readBigUInt64LE(37) + 1n, 37); // the vector block claims one float more than the file holds
        return bytes;
      },
      /does not parse/,
    ],
  ];

  for (const [what, corrupt, reason] of corruptions) {
    it(`${what}: rebuilt, logged as a rebuild, and search works`, async () => {
      const { dir, traceId } = await savedMemory();
      replaceIndexKeepingChecksum(dir, await corrupt(readFileSync(join(dir, "index.faiss"))));
      const lines: string[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(chunk.toString()), done()) });
      const memory = await FaissMemory.create({ dir, logger: createLogger({ logLevel: "warn" }, sink) });
      try {
        expect(memory.indexStats.rebuilt).toMatch(reason);
        expect(memory.indexStats.rows).toBe(2);
        expect(lines.map((line) => JSON.parse(line) as Record<string, unknown>)).toContainEqual(expect.objectContaining({ level: 40, rebuilt: memory.indexStats.rebuilt }));
        expect((await memory.search("calendar sync in outlook", { k: 1 }))[0]?.record.traceId).toBe(traceId);
      } finally {
        await memory.dispose();
      }
      // The rebuilt index was saved whole: the next start loads it.
      const again = await FaissMemory.create({ dir });
      expect(again.indexStats.rebuilt).toBeNull();
      await again.dispose();
    });
  }
});
