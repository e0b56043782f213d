import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { VerifiedMemory, type VerifiedEntryInput } from "./verified-memory.js";

const dirs: string[] = [];
const open = (path: string) => VerifiedMemory.create({ path, embeddings: new HashEmbeddings({ dimensions: 128 }) });
const tempPath = () => {
  const dir = mkdtempSync(join(tmpdir(), "council-verified-"));
  dirs.push(dir);
  return join(dir, "verified.sqlite");
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (overrides: Partial<VerifiedEntryInput> = {}): VerifiedEntryInput => ({
  question: "How do I extract a tar.gz archive?",
  answer: "`tar xzf path/to/archive.tar.gz` — extract a gzipped archive.",
  source: "agent0",
  runId: "run-1",
  voteScore: 0.8,
  ballots: [{ voter: "grounding", score: 0.8, reason: "matches the tar page" }],
  release: "v1",
  status: "canary",
  ...overrides,
});

describe("VerifiedMemory", () => {
  it("keeps provenance, dedupes the same fix, and a second process sees writes of the first (WAL + data_version)", async () => {
    const path = tempPath();
    const server = await open(path);
    const nightly = await open(path);
    expect(await server.search("extract tar.gz", { visibleTo: { adapterVersion: null } })).toEqual([]);
    const [added] = await nightly.add([entry({ status: "active", release: "memory:run-1" })]);
    await nightly.add([entry({ status: "active", release: "memory:run-2", runId: "run-2" })]);
    expect((await nightly.list()).length).toBe(1);
    const hits = await server.search("how do I extract a tar.gz archive", { visibleTo: { adapterVersion: null } });
    expect(hits[0]!.entry).toMatchObject({ id: added!.id, source: "agent0", runId: "run-2", voteScore: 0.8, release: "memory:run-2", status: "active" });
    expect(hits[0]!.score).toBeGreaterThan(0.9);
    await server.dispose();
    await nightly.dispose();
  });

  it("promotion activates a release's canary entries; a rollback withdraws them; a demoted entry stays demoted", async () => {
    const memory = await open(tempPath());
    const [a, b] = await memory.add([entry(), entry({ question: "How do I list hidden files?", answer: "`ls -a`" })]);
    await memory.demote({ id: b!.id, note: "👎" });
    expect(await memory.setReleaseStatus({ release: "v1", to: "active" })).toBe(1);
    expect(memory.get(a!.id)!.status).toBe("active");
    expect(memory.get(b!.id)).toMatchObject({ status: "demoted", note: "👎" });
    expect(await memory.setReleaseStatus({ release: "v1", to: "withdrawn", note: "rolled back" })).toBe(1);
    expect(memory.counts()).toEqual({ canary: 0, active: 0, demoted: 1, withdrawn: 1 });
    expect(await memory.search("extract tar.gz", { visibleTo: { adapterVersion: "v1" } })).toEqual([]);
    await memory.dispose();
  });

  it("records which entry served a turn, and rejects invalid entries with a typed error", async () => {
    const memory = await open(tempPath());
    const [a] = await memory.add([entry()]);
    memory.markServed({ traceId: "t-1", entryId: a!.id });
    expect(memory.servedBy("t-1")).toBe(a!.id);
    expect(memory.servedBy("t-2")).toBeUndefined();
    await expect(memory.add([{ ...entry(), answer: "" }])).rejects.toMatchObject({ code: "FRAME_INVALID" });
    await expect(memory.add([{ ...entry(), source: "user" as never }])).rejects.toMatchObject({ code: "FRAME_INVALID" });
    await memory.dispose();
  });
});
