import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLockRaceChild } from "../test/helpers/lock-race.js";
import { acquireRunLock } from "./run-lock.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "council-lock-race-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const startChild = (count: number) => startLockRaceChild(["file", dir, String(count)]);

describe("run lock across processes", () => {
  it("two processes race for the same locks: each lock has exactly one winner, the other gets RUN_LOCKED", async () => {
    const count = 200;
    const children = [startChild(count), startChild(count)];
    await Promise.all(children.map((c) => c.ready));
    for (const c of children) c.child.stdin.write("go\n");
    const [first, second] = await Promise.all(children.map((c) => c.result));
    for (let index = 0; index < count; index++) {
      const winners = [first!, second!].filter((r) => r.won.includes(index));
      expect(winners, `lock ${index}`).toHaveLength(1);
      const loser = [first!, second!].find((r) => !r.won.includes(index))!;
      expect(loser.locked.find((l) => l.index === index)?.message).toMatch(/in progress \(locked by pid \d+/);
      const holder = JSON.parse(await readFile(join(dir, `run-${index}.lock`), "utf8"));
      expect(holder.pid).toBe(winners[0]!.pid);
    }
    // Both really competed (not one finishing before the other started).
    console.log(`lock race: first won ${first!.won.length}, second won ${second!.won.length} of ${count}`);
    expect(first!.won.length + second!.won.length).toBe(count);
    for (const c of children) c.child.stdin.end();
    await Promise.all(children.map((c) => c.exited));
  });

  it("a lock left by a process that died is broken by the next run", async () => {
    const held = startChild(1);
    await held.ready;
    held.child.stdin.write("go\n");
    const result = await held.result;
    await expect(acquireRunLock({ path: join(dir, "run-0.lock"), ttlSeconds: 3600 })).rejects.toMatchObject({ code: "RUN_LOCKED" });
    held.child.kill("SIGKILL");
    await held.exited;
    expect(result.won).toEqual([0]);
    const lock = await acquireRunLock({ path: join(dir, "run-0.lock"), ttlSeconds: 3600 });
    expect(lock.info.pid).toBe(process.pid);
    await lock.release();
  });
});
