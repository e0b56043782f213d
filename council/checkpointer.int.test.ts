import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dataPaths, loadConfig } from "../core/index.js";
import { resolveApproval } from "../graphs/improve/index.js";
import { failures, setup } from "../graphs/improve/test-night.js";
import { havePostgres, sql, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { openCheckpointer, type OpenedCheckpointer } from "./checkpointer.js";

let server: PostgresServer;
let databases = 0;
const opened: OpenedCheckpointer[] = [];
const dirs: string[] = [];

/** Config of one replica: its own data dir, the shared database. */
async function replicaConfig(url: string) {
  const dir = await mkdtemp(join(tmpdir(), "council-ckpt-"));
  dirs.push(dir);
  return loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url }, overrides: { dataDir: dir } });
}

const checkpointRows = async (url: string) => Number((await sql<{ n: string }>(url, "SELECT count(*) AS n FROM checkpoints"))[0]!.n);

describe.skipIf(!havePostgres)("nightly graph checkpoints in Postgres (real Postgres 15; COUNCIL_STORE=postgres)", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    for (const checkpointer of opened) await checkpointer.dispose();
    await server?.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** Two replicas' checkpointers on one database (set up together), handed out one per graph built. */
  async function twoReplicas() {
    const url = await server.createDatabase(`council_ckpt_${++databases}`);
    const configs = [await replicaConfig(url), await replicaConfig(url)];
    const savers = await Promise.all(configs.map((config) => openCheckpointer({ config })));
    opened.push(...savers);
    const queue = [...savers];
    return { url, configs, savers, next: () => (queue.shift() ?? savers[1]!).saver };
  }

  it("a night crashed after its dataset step on one replica resumes from the Postgres checkpoint on another, without redoing the steps before", async () => {
    const { url, configs, savers, next } = await twoReplicas();
    expect(savers.map((s) => s.where)).toEqual([expect.stringContaining("127.0.0.1"), expect.stringContaining("127.0.0.1")]);
    let rewrites = 0;
    const night = await setup({
      turns: failures,
      crashAt: "dataset:end",
      checkpointer: next,
      override: { rewrite: async (item) => (rewrites++, [{ id: `${item.id}-kb`, itemId: item.id, text: item.question.includes("tar") ? "Use tar -xf archive.tar to extract." : "Use ls -la to list files.", source: "knowledge-base" }]) },
    });
    await expect(night.run()).rejects.toThrow("simulated crash in dataset:end");
    expect(rewrites).toBe(2);
    expect(await checkpointRows(url)).toBeGreaterThan(0);

    const summary = await night.run();
    expect(summary.outcome).toBe("promoted");
    expect(night.calls.train).toBe(1);
    expect(rewrites).toBe(2); // harvest, rewrite and vote came from the checkpoint
    for (const config of configs) expect(existsSync(join(dataPaths(config).checkpoints, "improve.sqlite"))).toBe(false);
  }, 120_000);

  it("a night interrupted for approval on one replica is approved and finished on another", async () => {
    const { next } = await twoReplicas();
    const night = await setup({ turns: failures, policy: "approve", checkpointer: next });
    const paused = await night.run();
    expect(paused.outcome).toBe("awaiting-approval");
    expect(night.calls.publish.size).toBe(0);
    const done = await resolveApproval({ graph: night.makeGraph(), store: night.store, runsDir: night.runsDir, runId: paused.runId, decision: "approve" });
    expect(done.outcome).toBe("promoted");
    expect(night.calls.train).toBe(1);
  }, 120_000);

  it("COUNCIL_STORE=postgres without COUNCIL_DATABASE_URL is CONFIG_INVALID; sqlite keeps the checkpoints in the data dir", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-ckpt-"));
    dirs.push(dir);
    await expect(openCheckpointer({ config: loadConfig({ env: { COUNCIL_STORE: "postgres" }, overrides: { dataDir: dir } }) })).rejects.toMatchObject({ code: "CONFIG_INVALID" });
    const sqlite = await openCheckpointer({ config: loadConfig({ env: {}, overrides: { dataDir: dir } }) });
    expect(sqlite.where).toBe(join(dataPaths({ dataDir: dir }).checkpoints, "improve.sqlite"));
    await sqlite.dispose();
  });
});
