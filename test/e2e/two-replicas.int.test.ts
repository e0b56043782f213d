import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, silentLogger } from "../../core/index.js";
import { openRunLocker } from "../../cron/index.js";
import { ChatClient } from "../helpers/chat-server.js";
import { startReplica, type Replica } from "../helpers/council-replica.js";
import { runCli } from "../helpers/run-cli.js";
import { havePostgres, startPostgres, type PostgresServer } from "../helpers/postgres.js";
import { createTinyModel } from "../helpers/tiny-model.js";

const traceOf = (frame: { type: string }) => {
  if (frame.type !== "final") throw new Error(`expected a final frame, got ${JSON.stringify(frame)}`);
  return (frame as unknown as { trace_id: string }).trace_id;
};

/**
 * Two Council replicas on one Postgres 15 (Debian's, started here: initdb in a temp dir, a free port, torn down
 * after): both chat and take 👎, each turn lands once in the shared database whichever replica served it,
 * kill -9 of a replica in the middle of a chat loses no turn it had acknowledged, and while one replica's night
 * holds the run lock the other's `nightly --once` says "locked" (each replica has its own data dir: the lock is
 * Postgres's). A real night across two replicas (its adapter through the gate, served by both, rolled back on both) is
 * test/e2e/two-replicas-night.int.test.ts; sticky canary routing on one shared llama-server is
 * council/shared-llama-server.int.test.ts.
 */
describe.skipIf(!havePostgres)("two replicas sharing Postgres (real processes, real sockets, real model)", () => {
  let server: PostgresServer;
  let databaseUrl: string;
  let root: string;
  let env: Record<string, string>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    databaseUrl = await server.createDatabase("council_replicas");
    root = await mkdtemp(join(tmpdir(), "council-replicas-"));
    const modelPath = await createTinyModel({ dir: root });
    env = { COUNCIL_MODEL: modelPath, COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: databaseUrl, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_MAX_TOKENS: "16", COUNCIL_LOG_LEVEL: "warn" };
  }, 180_000);

  afterAll(async () => {
    for (const replica of replicas) if (replica.child.exitCode === null) replica.child.kill("SIGKILL");
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  const rows = async (): Promise<Array<{ trace_id: string; feedback: { rating?: number } | null }>> => {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      return (await client.query("SELECT trace_id, feedback FROM council_turns ORDER BY seq")).rows;
    } finally {
      await client.end();
    }
  };

  it("chat and 👎 on both replicas land in the shared database; kill -9 mid-chat loses no acknowledged turn", async () => {
    replicas.push(await startReplica("a", { ...env, COUNCIL_DATA_DIR: join(root, "a") }));
    replicas.push(await startReplica("b", { ...env, COUNCIL_DATA_DIR: join(root, "b") }));
    const [a, b] = replicas as [Replica, Replica];
    const acknowledged: string[] = [];
    for (const replica of [a, b]) {
      const client = await ChatClient.connect(replica.wsUrl);
      const traceId = traceOf((await client.ask("1", `how do I extract a tar archive (asked on ${replica.name})?`)).end);
      acknowledged.push(traceId);
      client.send({ type: "feedback", trace_id: traceId, rating: -1, correction: "Run tar -xzf file.tar.gz" });
      expect(await client.next((frame) => frame.type === "feedback-ack" || frame.type === "error", 30_000)).toEqual({ type: "feedback-ack", trace_id: traceId });
      await client.close();
    }
    let stored = await rows();
    expect(stored.map((row) => row.trace_id)).toEqual(acknowledged);
    expect(stored.map((row) => row.feedback?.rating)).toEqual([-1, -1]);

    // kill -9 of b while a question is in flight, after more acknowledged turns on it
    const client = await ChatClient.connect(b.wsUrl);
    for (let i = 0; i < 3; i++) acknowledged.push(traceOf((await client.ask(`k${i}`, `how do I list files, take ${i}?`)).end));
    client.send({ type: "chat", id: "in-flight", text: "how do I see disk usage?" });
    await client.next((frame) => frame.type === "token" || frame.type === "final", 60_000);
    b.child.kill("SIGKILL");
    await b.exited;
    stored = await rows();
    for (const traceId of acknowledged) expect(stored.map((row) => row.trace_id)).toContain(traceId);

    // a keeps serving and still records
    const again = await ChatClient.connect(a.wsUrl);
    acknowledged.push(traceOf((await again.ask("after", "how do I rename a file?")).end));
    await again.close();
    expect((await rows()).map((row) => row.trace_id)).toEqual(expect.arrayContaining(acknowledged));
  }, 600_000);

  it("one night at a time across replicas: b's nightly --once says locked while a's night holds the Postgres lock", async () => {
    const config = loadConfig({ env: {}, overrides: { dataDir: join(root, "a"), memory: { store: "postgres", databaseUrl } } });
    const lock = await openRunLocker({ config, logger: silentLogger }).acquire({ purpose: "nightly improvement on replica a" });
    try {
      const second = await runCli(["nightly", "--once"], { ...env, COUNCIL_DATA_DIR: join(root, "b"), COUNCIL_LOG_LEVEL: "warn" });
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toMatch(/^locked: .*nightly improvement on replica a/m);
    } finally {
      await lock.release();
    }
    // released: b's replica takes it at once
    const onB = loadConfig({ env: {}, overrides: { dataDir: join(root, "b"), memory: { store: "postgres", databaseUrl } } });
    await (await openRunLocker({ config: onB, logger: silentLogger }).acquire({ purpose: "nightly on b" })).release();
  }, 600_000);
});
