import { describe, expect, it } from "vitest";
import type { VerifiedEntryInput, VerifiedMemory } from "./verified-memory.js";

/** Opens a VerifiedMemory on a place; every call on one place opens another process's view of the same rows. */
export type OpenVerified = () => Promise<VerifiedMemory>;

export const verifiedEntry = (overrides: Partial<VerifiedEntryInput> = {}): VerifiedEntryInput => ({
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

/**
 * One spec for verified memory on every row store (SQLite, Postgres). `place` makes a fresh, empty store and
 * returns the opener for it.
 */
export function describeVerifiedMemoryContract(name: string, place: () => Promise<OpenVerified>): void {
  describe(`VerifiedMemory contract: ${name}`, () => {
    it("keeps provenance, dedupes the same fix, and a second process sees writes of the first", async () => {
      const open = await place();
      const server = await open();
      const nightly = await open();
      expect(await server.search("extract tar.gz", { visibleTo: { adapterVersion: null } })).toEqual([]);
      const [added] = await nightly.add([verifiedEntry({ status: "active", release: "memory:run-1" })]);
      await nightly.add([verifiedEntry({ status: "active", release: "memory:run-2", runId: "run-2" })]);
      expect((await nightly.list()).length).toBe(1);
      const hits = await server.search("how do I extract a tar.gz archive", { visibleTo: { adapterVersion: null } });
      expect(hits[0]!.entry).toMatchObject({ id: added!.id, source: "agent0", runId: "run-2", voteScore: 0.8, release: "memory:run-2", status: "active", ballots: verifiedEntry().ballots });
      expect(hits[0]!.score).toBeGreaterThan(0.9);
      // A demotion on one process is seen by the other's next search.
      await server.demote({ id: added!.id, note: "👎" });
      expect(await nightly.search("how do I extract a tar.gz archive", { visibleTo: { adapterVersion: null } })).toEqual([]);
      await server.dispose();
      await nightly.dispose();
    });

    it("promotion activates a release's canary entries; a rollback withdraws them; a demoted entry stays demoted", async () => {
      const memory = await (await place())();
      const [a, b] = await memory.add([verifiedEntry(), verifiedEntry({ question: "How do I list hidden files?", answer: "`ls -a`" })]);
      expect(await memory.search("extract tar.gz", { visibleTo: { adapterVersion: "v1" } })).toHaveLength(2);
      expect(await memory.search("extract tar.gz", { visibleTo: { adapterVersion: null } })).toEqual([]);
      await memory.demote({ id: b!.id, note: "👎" });
      expect(await memory.setReleaseStatus({ release: "v1", to: "active" })).toBe(1);
      expect(memory.get(a!.id)!.status).toBe("active");
      expect(memory.get(b!.id)).toMatchObject({ status: "demoted", note: "👎" });
      expect(await memory.setReleaseStatus({ release: "v1", to: "withdrawn", note: "rolled back" })).toBe(1);
      expect(memory.counts()).toEqual({ canary: 0, active: 0, demoted: 1, withdrawn: 1 });
      expect(await memory.search("extract tar.gz", { visibleTo: { adapterVersion: "v1" } })).toEqual([]);
      await memory.dispose();
    });

    it("records which entry served a turn (seen by another process), and rejects invalid entries with a typed error", async () => {
      const open = await place();
      const memory = await open();
      const other = await open();
      const [a] = await memory.add([verifiedEntry()]);
      await memory.markServed({ traceId: "t-1", entryId: a!.id });
      expect(await other.servedBy("t-1")).toBe(a!.id);
      expect(await memory.servedBy("t-2")).toBeUndefined();
      await expect(memory.add([{ ...verifiedEntry(), answer: "" }])).rejects.toMatchObject({ code: "FRAME_INVALID" });
      await expect(memory.add([{ ...verifiedEntry(), source: "user" as never }])).rejects.toMatchObject({ code: "FRAME_INVALID" });
      await memory.dispose();
      await other.dispose();
    });

    it("erasing a user's turns deletes the entries made from them and their served-by rows", async () => {
      const memory = await (await place())();
      const [kept, erased] = await memory.add([verifiedEntry({ traceIds: ["t-keep"] }), verifiedEntry({ question: "How do I list hidden files?", answer: "`ls -a`", traceIds: ["t-gone", "t-other"] })]);
      await memory.markServed({ traceId: "t-gone", entryId: erased!.id });
      expect(await memory.eraseTraces(["t-gone"])).toEqual([erased!.id]);
      expect((await memory.list()).map((entry) => entry.id)).toEqual([kept!.id]);
      expect(await memory.servedBy("t-gone")).toBeUndefined();
      await memory.dispose();
    });
  });
}
