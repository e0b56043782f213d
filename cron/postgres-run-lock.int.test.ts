import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError, loadConfig, silentLogger } from "../core/index.js";
import { startLockRaceChild } from "../test/helpers/lock-race.js";
import { havePostgres, startPostgres, type PostgresServer } from "../test/helpers/postgres.js";
import { acquirePostgresRunLock } from "./postgres-run-lock.js";
import { openRunLocker } from "./run-lockers.js";

let server: PostgresServer;
let url: string;

describe.skipIf(!havePostgres)("nightly run lock in Postgres (real Postgres 15, real processes)", () => {
  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase("council_lock");
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });

  it("two processes race for the same locks: each has exactly one winner, the other gets RUN_LOCKED naming the winner", async () => {
    const count = 12;
    const children = [startLockRaceChild(["postgres", url, String(count)]), startLockRaceChild(["postgres", url, String(count)])];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.write("go\n");
    const [first, second] = await Promise.all(children.map((c) => c.result));
    for (let index = 0; index < count; index++) {
      const winners = [first!, second!].filter((r) => r.won.includes(index));
      expect(winners, `lock ${index}`).toHaveLength(1);
      const loser = [first!, second!].find((r) => !r.won.includes(index))!;
      const message = loser.locked.find((l) => l.index === index)?.message;
      // The holder's info row may trail its lock by one statement; then the backend is named instead.
      expect(message).toMatch(new RegExp(`in progress \\(locked by (pid ${winners[0]!.pid} on \\S+ since \\S+, race ${index}|Postgres backend \\d+)`));
    }
    console.log(`postgres lock race: first won ${first!.won.length}, second won ${second!.won.length} of ${count}`);
    for (const c of children) c.child.stdin.end();
    await Promise.all(children.map((c) => c.exited));
  }, 180_000);

  it("the holder's info is reported, and kill -9 of the holder frees the lock (its connection dies)", async () => {
    const held = startLockRaceChild(["postgres", url, "1", "held"]);
    await held.ready;
    held.child.stdin.write("go\n");
    const result = await held.result;
    expect(result.won).toEqual([0]);
    const error = await acquirePostgresRunLock({ url, key: 2000, ttlSeconds: 60 }).then(() => null, (e: unknown) => e);
    expect(isCouncilError(error, "RUN_LOCKED")).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`locked by pid ${held.child.pid} on \\S+ since \\S+, race 0`));
    expect((error as { details?: Record<string, unknown> }).details).toMatchObject({ pid: held.child.pid });

    held.child.kill("SIGKILL");
    await held.exited;
    const deadline = Date.now() + 15_000;
    let lock = null;
    while (lock === null) {
      lock = await acquirePostgresRunLock({ url, key: 2000, ttlSeconds: 60 }).catch((e: unknown) => {
        if (!isCouncilError(e, "RUN_LOCKED") || Date.now() > deadline) throw e;
        return null;
      });
      if (lock === null) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(lock.info.pid).toBe(process.pid);
    await lock.release();
  }, 60_000);

  it("COUNCIL_STORE=postgres picks the advisory lock: a second replica's attempt is RUN_LOCKED until the first releases", async () => {
    const config = loadConfig({ env: { COUNCIL_STORE: "postgres", COUNCIL_DATABASE_URL: url } });
    const [a, b] = [openRunLocker({ config, logger: silentLogger }), openRunLocker({ config, logger: silentLogger })];
    const lock = await a.acquire({ purpose: "nightly improvement" });
    await expect(b.acquire()).rejects.toMatchObject({ code: "RUN_LOCKED", message: expect.stringContaining(`pid ${process.pid}`) });
    await lock.release();
    await (await b.acquire()).release();
  });
});
