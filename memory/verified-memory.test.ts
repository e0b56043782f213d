import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { describeVerifiedMemoryContract } from "./verified-memory.contract.js";
import { VerifiedMemory } from "./verified-memory.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describeVerifiedMemoryContract("SQLite (WAL + data_version)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "council-verified-"));
  dirs.push(dir);
  const path = join(dir, "verified.sqlite");
  return () => VerifiedMemory.create({ path, embeddings: new HashEmbeddings({ dimensions: 128 }) });
});
