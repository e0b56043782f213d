import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runCli } from "../../test/helpers/run-cli.js";
import { writeFixtureRun } from "../../test/helpers/run-fixtures.js";

describe("council report (real CLI process on run folders in a data dir)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  const dataDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-report-"));
    dirs.push(dir);
    return dir;
  };

  it("prints the latest run's report by default, a named run's facts with --json, and RUN_NOT_FOUND for an unknown run", async () => {
    const dir = await dataDir();
    const runsDir = join(dir, "data", "runs");
    await writeFixtureRun({ runsDir, runId: "run-20261205T020000-aaaa", kind: "promoted" });
    await writeFixtureRun({ runsDir, runId: "run-20261206T020000-bbbb", kind: "gate-failed-memory-only" });
    const env = { COUNCIL_DATA_DIR: dir, COUNCIL_LOG_LEVEL: "silent" };

    const latest = await runCli(["report"], env);
    expect(latest.code, latest.stderr).toBe(0);
    expect(latest.stdout).toContain("# Morning report: run-20261206T020000-bbbb");
    expect(latest.stdout).toContain("Gate suite target failed: success 50.0% < current 40.0% + 15.0%. The adapter did not ship.");

    const named = await runCli(["report", "run-20261205T020000-aaaa", "--json"], env);
    expect(named.code, named.stderr).toBe(0);
    const facts = JSON.parse(named.stdout) as { runId: string; outcome: string; canary: { windows: unknown[] }; training: { firstLoss: number; lastLoss: number } };
    expect(facts).toMatchObject({ runId: "run-20261205T020000-aaaa", outcome: "promoted", training: { firstLoss: 2.1, lastLoss: 0.4 } });
    expect(facts.canary.windows).toHaveLength(3);

    const unknown = await runCli(["report", "run-nope"], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain("RUN_NOT_FOUND");
  });

  it("says how to get a first run when there is none", async () => {
    const result = await runCli(["report"], { COUNCIL_DATA_DIR: await dataDir(), COUNCIL_LOG_LEVEL: "silent" });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("council: RUN_NOT_FOUND: No finished improvement run under");
    expect(result.stderr).toContain("council nightly --once");
  });
});
