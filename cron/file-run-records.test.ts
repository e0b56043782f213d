import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig, silentLogger } from "../core/index.js";
import { FileRunRecords } from "./file-run-records.js";
import { openRunRecords, runRecordStores } from "./run-record-stores.js";
import { runRecordsContract } from "./run-records.contract.js";

const roots: string[] = [];
const freshDir = async () => {
  const root = await mkdtemp(join(tmpdir(), "council-run-records-"));
  roots.push(root);
  return root;
};
afterAll(async () => {
  for (const root of roots) await rm(root, { recursive: true, force: true });
});

runRecordsContract("file", async () => new FileRunRecords({ runsDir: join(await freshDir(), "runs") }));

describe("FileRunRecords in a data dir", () => {
  it("lists the folder of a night from before run records (summary.json only) as finished, and skips folders with neither file", async () => {
    const runsDir = join(await freshDir(), "runs");
    const summary = { runId: "run-old", since: 1_000, until: 2_000, outcome: "gate-failed", reasons: ["target: no better"], endedAt: 3_000, version: null };
    await mkdir(join(runsDir, "run-old"), { recursive: true });
    await writeFile(join(runsDir, "run-old", "summary.json"), JSON.stringify(summary));
    await mkdir(join(runsDir, "run-empty"), { recursive: true });
    await writeFile(join(runsDir, "progress.json"), "{}");
    const records = new FileRunRecords({ runsDir });
    expect(await records.list()).toEqual([{ runId: "run-old", status: "finished", startedAt: 2_000, updatedAt: 3_000, finishedAt: 3_000, stage: null, outcome: "gate-failed", reasons: ["target: no better"], summary, report: null }]);
  });

  it("writes the run's summary.json and report.md where the run folder's readers look", async () => {
    const runsDir = join(await freshDir(), "runs");
    const records = new FileRunRecords({ runsDir });
    await records.end({ runId: "run-x", at: 5, status: "finished", outcome: "promoted", reasons: [], summary: { runId: "run-x" }, report: { markdown: "# Morning report: run-x\n", facts: { runId: "run-x" } } });
    expect(await readFile(join(runsDir, "run-x", "report.md"), "utf8")).toBe("# Morning report: run-x\n");
    expect(JSON.parse(await readFile(join(runsDir, "run-x", "summary.json"), "utf8"))).toEqual({ runId: "run-x" });
  });

  it("names a corrupt record.json instead of inventing a record", async () => {
    const runsDir = join(await freshDir(), "runs");
    await mkdir(join(runsDir, "run-bad"), { recursive: true });
    await writeFile(join(runsDir, "run-bad", "record.json"), "{not json");
    await expect(new FileRunRecords({ runsDir }).get("run-bad")).rejects.toMatchObject({ code: "MEMORY_CORRUPT", message: expect.stringContaining(join("run-bad", "record.json")) });
  });

  it("lists a corrupt run as `unreadable` beside the good ones instead of failing the listing", async () => {
    const runsDir = join(await freshDir(), "runs");
    const records = new FileRunRecords({ runsDir });
    await records.end({ runId: "run-good", at: 5, status: "finished", outcome: "promoted", reasons: [], summary: { runId: "run-good" }, report: null });
    await mkdir(join(runsDir, "run-bad"), { recursive: true });
    await writeFile(join(runsDir, "run-bad", "summary.json"), "{not json");
    const listed = await records.list();
    expect(listed.map((r) => [r.runId, r.outcome]).sort()).toEqual([["run-bad", "unreadable"], ["run-good", "promoted"]]);
    expect(listed.find((r) => r.runId === "run-bad")!.reasons[0]).toContain(join("run-bad", "summary.json"));
  });
});

describe("run record stores (registry)", () => {
  it("COUNCIL_STORE picks: sqlite and in-memory use the file records, postgres the shared table", async () => {
    expect(runRecordStores.names()).toEqual(["file", "postgres"]);
    const dataDir = await freshDir();
    for (const store of ["sqlite", "in-memory"]) {
      const records = openRunRecords({ config: loadConfig({ env: { COUNCIL_STORE: store, COUNCIL_DATA_DIR: dataDir } }), logger: silentLogger });
      expect(records).toMatchObject({ name: "file", shared: false, where: join(dataDir, "data", "runs") });
    }
    const shared = openRunRecords({ config: loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: "postgres://council:secret@db.example:5432/council" } }), logger: silentLogger });
    expect(shared).toMatchObject({ name: "postgres", shared: true, where: "Postgres postgres://council:***@db.example:5432/council" });
    await shared.dispose();
  });

  it("COUNCIL_STORE=postgres without a database URL is CONFIG_INVALID naming COUNCIL_DATABASE_URL", () => {
    expect(() => openRunRecords({ config: loadConfig({ env: { COUNCIL_STORE: "postgres" } }), logger: silentLogger })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("COUNCIL_DATABASE_URL") }));
  });
});
