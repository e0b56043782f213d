import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError, loadConfig } from "../core/index.js";
import { HashEmbeddings } from "../models/index.js";
import { havePostgres, sql, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { describeMemoryStoreContract, makeTurn } from "./memory-store.contract.js";
import { openMemory } from "./open-from-config.js";
import { PostgresMemory, redactDatabaseUrl } from "./postgres-memory.js";
import { MIGRATIONS } from "./postgres-migrations.js";

const embeddings = new HashEmbeddings({ dimensions: 64 });
let server: PostgresServer;
let databases = 0;
const freshDatabase = () => server.createDatabase(`council_${++databases}`);

describe.skipIf(!havePostgres)("PostgresMemory on a real Postgres 15 (initdb in a temp dir, torn down after)", () => {
  beforeAll(async () => {
    server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  describeMemoryStoreContract("PostgresMemory", async ({ now }) => PostgresMemory.create({ url: await freshDatabase(), embeddings, now }));

  it("applies the versioned migrations once, also when two replicas start together, and refuses a newer schema", async () => {
    const url = await freshDatabase();
    const [a, b] = await Promise.all([PostgresMemory.create({ url, embeddings }), PostgresMemory.create({ url, embeddings })]);
    await Promise.all([a.dispose(), b.dispose()]);
    const applied = await sql<{ version: number; name: string }>(url, "SELECT version, name FROM council_schema_migrations ORDER BY version");
    expect(applied).toEqual(MIGRATIONS.map(({ version, name }) => ({ version, name })));

    await sql(url, "INSERT INTO council_schema_migrations (version, name) VALUES (999, 'from the future')");
    const error = await PostgresMemory.create({ url, embeddings }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "MEMORY_SCHEMA_NEWER")).toBe(true);
    expect((error as Error).message).toContain("version 999");
  });

  it("two replicas share one truth: a turn or a 👎 written on A is found by B's next search", async () => {
    const url = await freshDatabase();
    const a = await PostgresMemory.create({ url, embeddings });
    const b = await PostgresMemory.create({ url, embeddings });
    try {
      const turn = makeTurn({ question: "how do I extract a tar archive?" });
      await a.record(turn);
      expect(b.counts().total).toBe(0);
      const hits = await b.search("extract tar archive", { k: 1 });
      expect(hits[0]?.record).toEqual(turn);
      expect(b.counts()).toEqual({ total: 1, success: 1, failure: 0 });

      await a.setFeedback(turn.traceId, { rating: -1, correction: "tar xf file.tar", at: 1 });
      expect((await b.search("extract tar", { k: 1, filter: { success: false } }))[0]?.record.feedback?.correction).toBe("tar xf file.tar");
      expect((await b.failures()).map((failed) => failed.traceId)).toEqual([turn.traceId]);
      await expect(b.record(turn)).rejects.toMatchObject({ code: "TRACE_DUPLICATE" });
    } finally {
      await Promise.all([a.dispose(), b.dispose()]);
    }
  });

  it("a replica with other embeddings re-embeds the shared turns for its own cache", async () => {
    const url = await freshDatabase();
    const a = await PostgresMemory.create({ url, embeddings });
    await a.record(makeTurn({ question: "printer on floor three is jammed" }));
    await a.record(makeTurn({ question: "reset my vpn password" }));
    await a.dispose();
    const b = await PostgresMemory.create({ url, embeddings: new HashEmbeddings({ dimensions: 32 }) });
    try {
      expect((await b.search("vpn password", { k: 1 }))[0]?.record.question).toBe("reset my vpn password");
    } finally {
      await b.dispose();
    }
  });

  it("COUNCIL_STORE=postgres opens it from config, and a recorded turn survives reopening", async () => {
    const url = await freshDatabase();
    const config = loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url } });
    const first = await openMemory({ config, embeddings });
    expect(first).toBeInstanceOf(PostgresMemory);
    const turn = makeTurn();
    await first.record(turn);
    await first.dispose();
    const second = await openMemory({ config, embeddings });
    expect(await second.get(turn.traceId)).toEqual(turn);
    expect(second.counts().total).toBe(1);
    await second.dispose();
  });

  it("an unreachable database is BACKEND_UNAVAILABLE, and the message hides the password", async () => {
    const url = `postgres://council:s3cret@127.0.0.1:${server.port}/no_such_database`;
    const error = await PostgresMemory.create({ url, embeddings }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNAVAILABLE")).toBe(true);
    expect((error as Error).message).not.toContain("s3cret");
    expect((error as Error).message).toContain(redactDatabaseUrl(url));
  });
});
