import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { havePostgres, sql, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { PostgresRunRecords } from "./postgres-run-records.js";
import { runRecordsContract } from "./run-records.contract.js";

let server: PostgresServer;
let databases = 0;

describe.skipIf(!havePostgres)("run records in a real Postgres 15", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  // A fresh database per test: the store applies the migrations (12: council_runs) on first use.
  runRecordsContract("postgres", async () => new PostgresRunRecords({ url: await server.createDatabase(`runs_${++databases}`) }));

  it("two stores on one database (two replicas) see each other's runs; the schema is migrated once", async () => {
    const url = await server.createDatabase(`runs_${++databases}`);
    const a = new PostgresRunRecords({ url });
    const b = new PostgresRunRecords({ url });
    try {
      await Promise.all([a.list(), b.list()]);
      await a.start({ runId: "run-on-a", at: 1_000 });
      await a.progress({ runId: "run-on-a", stage: "train", at: 1_200 });
      expect(await b.get("run-on-a")).toMatchObject({ status: "running", stage: "train" });
      await a.end({ runId: "run-on-a", at: 2_000, status: "finished", outcome: "promoted", reasons: ["ok"], summary: { runId: "run-on-a" }, report: { markdown: "# r\n", facts: { runId: "run-on-a" } } });
      expect((await b.list({ ended: true })).map((r) => [r.runId, r.report?.markdown])).toEqual([["run-on-a", "# r\n"]]);
      expect(await sql<{ version: number }>(url, "SELECT version FROM council_schema_migrations WHERE version = 12")).toEqual([{ version: 12 }]);
    } finally {
      await a.dispose();
      await b.dispose();
    }
  });

  it("an unreachable database is BACKEND_UNAVAILABLE naming the redacted URL", async () => {
    const records = new PostgresRunRecords({ url: `postgres://council:secret@127.0.0.1:${server.port + 1}/nope` });
    try {
      await expect(records.list()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE", message: expect.stringContaining("council:***@127.0.0.1") });
    } finally {
      await records.dispose();
    }
  });
});
