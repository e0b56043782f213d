import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { RunEnd, RunRecords } from "./run-records.js";

/** Test support: opens a fresh, empty store. */
export type OpenRunRecords = () => Promise<RunRecords>;

const summary = (runId: string, outcome: string) => ({ runId, since: 1_000, until: 2_000, outcome, reasons: [`${outcome} because`], harvested: 3, accepted: 2, version: outcome === "promoted" ? "v-abc" : null, suites: [{ suite: "target", total: 10, passed: true }], endedAt: 5_000 });

const ending = (runId: string, over: Partial<RunEnd> = {}): RunEnd => ({
  runId,
  at: 5_000,
  status: "finished",
  outcome: "promoted",
  reasons: ["canary v-abc promoted after 3 analysis window(s)"],
  summary: summary(runId, "promoted"),
  report: { markdown: `# Morning report: ${runId}\n\nÜnïcode ✓ and a | pipe\n`, facts: { runId, outcome: "promoted", training: { firstLoss: 2.1, lastLoss: 0.4 }, attention: [] } },
  ...over,
});

/** One contract for every RunRecords store (file, postgres): the same calls must give the same records. */
export function runRecordsContract(name: string, open: OpenRunRecords): void {
  describe(`RunRecords contract: ${name}`, () => {
    let store: RunRecords;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.dispose();
    });

    it("is empty at first: no runs, no record for an unknown id, none for an unsafe id", async () => {
      expect(await store.list()).toEqual([]);
      expect(await store.get("run-nope")).toBeNull();
      expect(await store.get("../etc")).toBeNull();
    });

    it("a run goes running → stages → finished, keeping its start; the summary and report come back as written", async () => {
      await store.start({ runId: "run-a", at: 1_000 });
      expect(await store.get("run-a")).toEqual({ runId: "run-a", status: "running", startedAt: 1_000, updatedAt: 1_000, finishedAt: null, stage: null, outcome: null, reasons: [], summary: null, report: null });
      expect(await store.list({ ended: true })).toEqual([]);
      await store.progress({ runId: "run-a", stage: "harvest", at: 1_500 });
      await store.progress({ runId: "run-a", stage: "train", at: 2_500 });
      expect(await store.get("run-a")).toMatchObject({ status: "running", stage: "train", startedAt: 1_000, updatedAt: 2_500 });
      await store.end(ending("run-a"));
      const record = await store.get("run-a");
      expect(record).toEqual({ runId: "run-a", status: "finished", startedAt: 1_000, updatedAt: 5_000, finishedAt: 5_000, stage: "train", outcome: "promoted", reasons: ["canary v-abc promoted after 3 analysis window(s)"], summary: summary("run-a", "promoted"), report: ending("run-a").report });
      expect(await store.list({ ended: true })).toEqual([record]);
    });

    it("a run paused for approval is not finished; resuming sets it running again with its start and last summary kept", async () => {
      await store.start({ runId: "run-b", at: 1_000 });
      await store.end(ending("run-b", { status: "awaiting-approval", outcome: "awaiting-approval", reasons: ["waiting for `council approve run-b`"], summary: summary("run-b", "awaiting-approval"), report: null }));
      expect(await store.get("run-b")).toMatchObject({ status: "awaiting-approval", finishedAt: null, outcome: "awaiting-approval", report: null });
      expect((await store.list({ ended: true })).map((r) => r.runId)).toEqual(["run-b"]);
      await store.start({ runId: "run-b", at: 9_000 });
      expect(await store.get("run-b")).toMatchObject({ status: "running", startedAt: 1_000, updatedAt: 9_000, finishedAt: null, summary: summary("run-b", "awaiting-approval") });
      await store.end(ending("run-b", { at: 9_500, outcome: "rejected", reasons: ["rejected by ops"], summary: summary("run-b", "rejected"), report: null }));
      expect(await store.get("run-b")).toMatchObject({ status: "finished", finishedAt: 9_500, outcome: "rejected", reasons: ["rejected by ops"], report: null });
    });

    it("a report is replaced by the next end, and an end without one leaves none", async () => {
      await store.end(ending("run-c"));
      await store.end(ending("run-c", { at: 6_000, report: null }));
      expect((await store.get("run-c"))?.report).toBeNull();
    });

    it("progress or end of a run it never saw start creates the record", async () => {
      await store.progress({ runId: "run-d", stage: "vote", at: 3_000 });
      expect(await store.get("run-d")).toMatchObject({ status: "running", startedAt: 3_000, stage: "vote" });
      await store.end(ending("run-e", { at: 4_000 }));
      expect(await store.get("run-e")).toMatchObject({ status: "finished", startedAt: 4_000, finishedAt: 4_000, stage: null });
    });

    it("lists newest first by start (then run id), honours the limit, and `ended` skips runs still going", async () => {
      await store.start({ runId: "run-2", at: 2_000 });
      await store.start({ runId: "run-1", at: 1_000 });
      await store.start({ runId: "run-3b", at: 3_000 });
      await store.start({ runId: "run-3a", at: 3_000 });
      await store.end(ending("run-1", { at: 1_100 }));
      await store.end(ending("run-2", { at: 2_100 }));
      expect((await store.list()).map((r) => r.runId)).toEqual(["run-3b", "run-3a", "run-2", "run-1"]);
      expect((await store.list({ limit: 2 })).map((r) => r.runId)).toEqual(["run-3b", "run-3a"]);
      expect((await store.list({ ended: true, limit: 1 })).map((r) => r.runId)).toEqual(["run-2"]);
      expect(await store.list({ limit: 0 })).toEqual([]);
    });
  });
}
