import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, silentLogger } from "../../core/index.js";
import { openRunRecords, type RunRecords } from "../../cron/index.js";
import { failures, setup } from "../../graphs/improve/test-night.js";
import { runNightly } from "../../graphs/improve/index.js";
import { havePostgres, startPostgres, type PostgresServer } from "../../test/helpers/postgres.js";
import { runCli } from "../../test/helpers/run-cli.js";

/**
 * Two replicas on one Postgres, each with its own data dir: replica A (this test process) runs a night through the
 * real nightly loop; `council report` and `council status` run as separate CLI processes on replica B's data dir.
 */
describe.skipIf(!havePostgres)("council report / status on another replica (real Postgres 15, real CLI processes)", () => {
  let server: PostgresServer;
  let url: string;
  const dirs: string[] = [];
  const tempDir = async (prefix: string) => {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase("council_runs_replicas");
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("a night replica A ran is the latest run in B's `council report` and `council status`; a night A is running shows its stage", async () => {
    const night = await setup({ turns: failures });
    dirs.push(night.root);
    const configA = loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url, COUNCIL_DATA_DIR: night.root } });
    const recordsA: RunRecords = openRunRecords({ config: configA, logger: silentLogger });
    const runId = "run-20261206T020000-repa";
    try {
      const summary = await runNightly({ graph: night.makeGraph(), store: night.store, runsDir: night.runsDir, records: recordsA, generateRunId: () => runId });
      expect(summary.outcome).toBe("promoted");
      const reportOnA = await readFile(join(night.runsDir, runId, "report.md"), "utf8");

      const dirB = await tempDir("council-replica-b-");
      const envB = { COUNCIL_DATA_DIR: dirB, COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url, COUNCIL_LOG_LEVEL: "silent" };
      const latest = await runCli(["report"], envB);
      expect(latest.code, latest.stderr).toBe(0);
      expect(latest.stdout).toBe(reportOnA + "\n");
      expect(latest.stdout).toContain(`# Morning report: ${runId}`);
      expect(existsSync(join(dirB, "data", "runs", runId))).toBe(false);

      const facts = await runCli(["report", runId, "--json"], envB);
      expect(facts.code, facts.stderr).toBe(0);
      expect(JSON.parse(facts.stdout)).toMatchObject({ runId, outcome: "promoted", version: summary.version });

      // A second night, still going on A: B's status lists it first, with the stage A reached.
      await recordsA.start({ runId: "run-20261207T020000-repa", at: summary.endedAt + 1_000 });
      await recordsA.progress({ runId: "run-20261207T020000-repa", stage: "train", at: summary.endedAt + 2_000 });
      const status = await runCli(["status", "--json"], envB);
      expect(status.code, status.stderr).toBe(0);
      const runs = (JSON.parse(status.stdout) as { runs: Array<{ runId: string; outcome: string; stage?: string }> }).runs;
      expect(runs.map(({ runId: id, outcome, stage }) => ({ id, outcome, stage }))).toEqual([
        { id: "run-20261207T020000-repa", outcome: "running", stage: "train" },
        { id: runId, outcome: "promoted", stage: undefined },
      ]);
      const unfinished = await runCli(["report", "run-20261207T020000-repa"], envB);
      expect(unfinished.code).toBe(1);
      expect(unfinished.stderr).toContain("has no morning report yet (status running, at train)");

      // The default store (sqlite: each data dir's run folders) on B sees none of it: the sharing is the Postgres store's.
      const local = await runCli(["report"], { COUNCIL_DATA_DIR: dirB, COUNCIL_LOG_LEVEL: "silent" });
      expect(local.code).toBe(1);
      expect(local.stderr).toContain("RUN_NOT_FOUND");
    } finally {
      await recordsA.dispose();
    }
  }, 240_000);
});
