import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { havePostgres, sql, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { openVerifiedMemory } from "./open-from-config.js";
import { describeVerifiedMemoryContract, verifiedEntry } from "./verified-memory.contract.js";
import { VerifiedMemory } from "./verified-memory.js";
import { openPostgresVerifiedRows } from "./verified-postgres.js";

const embeddings = new HashEmbeddings({ dimensions: 128 });
let server: PostgresServer;
let databases = 0;

describe.skipIf(!havePostgres)("verified memory in Postgres (real Postgres 15)", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  describeVerifiedMemoryContract("Postgres", async () => {
    const url = await server.createDatabase(`council_verified_${++databases}`);
    return async () => VerifiedMemory.create({ rows: await openPostgresVerifiedRows({ url }), embeddings });
  });

  it("COUNCIL_STORE=postgres opens verified memory in the database, and nothing under the data dir", async () => {
    const url = await server.createDatabase(`council_verified_${++databases}`);
    const config = loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url }, overrides: { dataDir: "/nonexistent/council-data" } });
    const memory = await openVerifiedMemory({ config, embeddings });
    await memory.add([verifiedEntry()]);
    expect(await sql<{ question: string }>(url, "SELECT question FROM council_verified")).toEqual([{ question: verifiedEntry().question }]);
    await memory.dispose();
  });
});
