import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../core/index.js";
import { openDatabase } from "./faiss-memory-sql.js";
import { FaissIndex } from "./faiss-index.js";

const root = mkdtempSync(join(tmpdir(), "council-faiss-worker-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const DIMS = 4;
const vectorBlob = (values: number[]) => Buffer.from(new Float32Array(values).buffer);

/** A memory database with `rows` (their vectors as stored blobs) and a FAISS index over it, straight on the worker. */
async function indexOver(name: string, vectors: Buffer[]) {
  const dbPath = join(root, `${name}.sqlite`);
  const db = openDatabase(dbPath);
  const insert = db.prepare(
    "INSERT INTO turns (trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at, vector) VALUES (?, 's', NULL, 'q', 'a', 'r', 'm', NULL, 1, NULL, '[]', 1, NULL, 1, 1, 1, 1, ?)",
  );
  vectors.forEach((vector, i) => insert.run(`t${i}`, vector));
  const index = await FaissIndex.create({ dimensions: DIMS, indexPath: join(root, `${name}.faiss`), metaPath: join(root, `${name}.meta.json`), dbPath, dbUuid: name, logger: silentLogger });
  return { db, index };
}

describe("the FAISS worker (a type-checked module, serialised into its thread)", () => {
  it("searches what SQLite holds", async () => {
    const { db, index } = await indexOver("ok", [vectorBlob([1, 0, 0, 0]), vectorBlob([0, 1, 0, 0])]);
    expect((await index.search(new Float32Array([0, 1, 0, 0]), 1)).labels).toEqual([1]);
    await index.dispose();
    db.close();
  });

  it("answers a wrong query with its own { code, message }: VECTOR_INVALID", async () => {
    const { db, index } = await indexOver("bad-query", [vectorBlob([1, 0, 0, 0])]);
    await expect(index.search(new Float32Array(3), 1)).rejects.toMatchObject({ name: "CouncilError", code: "VECTOR_INVALID", message: "query has the wrong dimension" });
    // the worker keeps serving after an error
    expect((await index.search(new Float32Array([1, 0, 0, 0]), 1)).labels).toEqual([0]);
    await index.dispose();
    db.close();
  });

  it("reports a stored vector of the wrong size as MEMORY_CORRUPT, naming the sizes", async () => {
    const { db, index } = await indexOver("corrupt", [vectorBlob([1, 0, 0, 0])]);
    db.prepare("INSERT INTO turns (trace_id, session_id, user_id, question, answer, route, model, adapter, score, category, reasons, success, feedback, latency_ms, tokens, created_at, updated_at, vector) VALUES ('t9', 's', NULL, 'q', 'a', 'r', 'm', NULL, 1, NULL, '[]', 1, NULL, 1, 1, 1, 1, ?)").run(vectorBlob([1, 2]));
    await expect(index.catchUp()).rejects.toMatchObject({ code: "MEMORY_CORRUPT", message: "a stored vector has 8 bytes, expected 16" });
    await index.dispose();
    db.close();
  });
});
