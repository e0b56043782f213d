import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { acquireRunLock, withRunLock } from "./run-lock.js";

let dir: string;
let path: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "council-lock-"));
  path = join(dir, "runs", "nightly.lock");
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const at = (iso: string) => () => new Date(iso);

describe("acquireRunLock", () => {
  it("writes pid, host, start time and TTL, and refuses a second acquirer with RUN_LOCKED", async () => {
    const lock = await acquireRunLock({ path, ttlSeconds: 60, host: "h1", pid: process.pid, now: at("2026-11-22T02:00:00Z") });
    expect(JSON.parse(await readFile(path, "utf8"))).toMatchObject({ pid: process.pid, host: "h1", startedAt: "2026-11-22T02:00:00.000Z", ttlSeconds: 60 });
    await expect(acquireRunLock({ path, ttlSeconds: 60, host: "h1", now: at("2026-11-22T02:00:30Z") })).rejects.toMatchObject({
      code: "RUN_LOCKED",
      details: { pid: process.pid, host: "h1" },
    });
    await lock.release();
    const again = await acquireRunLock({ path, ttlSeconds: 60, host: "h1" });
    await again.release();
  });

  it("breaks a lock whose pid is dead on this host", async () => {
    await acquireRunLock({ path, ttlSeconds: 3600, host: "h1", pid: 999_999, now: at("2026-11-22T02:00:00Z") });
    const lock = await acquireRunLock({ path, ttlSeconds: 3600, host: "h1", isAlive: () => false, now: at("2026-11-22T02:01:00Z") });
    expect(lock.info.pid).toBe(process.pid);
  });

  it("does not break a lock of another host until its TTL expires", async () => {
    await acquireRunLock({ path, ttlSeconds: 3600, host: "other", pid: 4242, now: at("2026-11-22T02:00:00Z") });
    await expect(acquireRunLock({ path, ttlSeconds: 3600, host: "h1", isAlive: () => false, now: at("2026-11-22T02:59:59Z") })).rejects.toMatchObject({ code: "RUN_LOCKED" });
    const lock = await acquireRunLock({ path, ttlSeconds: 3600, host: "h1", now: at("2026-11-22T03:00:01Z") });
    expect(lock.info.host).toBe("h1");
  });

  it("does not break a live holder's lock even when it is old but within TTL", async () => {
    await acquireRunLock({ path, ttlSeconds: 3600, host: "h1", pid: process.pid, now: at("2026-11-22T02:00:00Z") });
    await expect(acquireRunLock({ path, ttlSeconds: 3600, host: "h1", now: at("2026-11-22T02:30:00Z") })).rejects.toMatchObject({ code: "RUN_LOCKED" });
  });

  it("release leaves a lock that another run took over after breaking ours", async () => {
    const mine = await acquireRunLock({ path, ttlSeconds: 1, host: "h1", now: at("2026-11-22T02:00:00Z") });
    const theirs = await acquireRunLock({ path, ttlSeconds: 60, host: "h1", now: at("2026-11-22T03:00:00Z") });
    await mine.release();
    expect(JSON.parse(await readFile(path, "utf8")).nonce).toBe(theirs.info.nonce);
  });

  it("treats an unreadable fresh lock file as held", async () => {
    await acquireRunLock({ path, ttlSeconds: 60 }).then((lock) => lock.release());
    await writeFile(path, "garbage");
    await expect(acquireRunLock({ path, ttlSeconds: 60 })).rejects.toMatchObject({ code: "RUN_LOCKED" });
  });

  it("withRunLock releases after the task, also when it throws", async () => {
    await expect(withRunLock({ path, ttlSeconds: 60 }, async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    expect(await withRunLock({ path, ttlSeconds: 60 }, async () => "done")).toBe("done");
  });
});
