/**
 * Child process for run-lock.int.test.ts: prints "ready", waits for "go" on stdin (a barrier shared with its
 * rival), then tries to take `count` locks in `dir` (never releasing) and prints one JSON line with the result.
 * It stays alive (holding its locks) until its stdin closes, so the rival can never see them as stale.
 * Usage: node --import tsx cron/lock-race.fixture.ts <dir> <count>
 */
import { join } from "node:path";
import { isCouncilError } from "../core/index.js";
import { acquireRunLock } from "./run-lock.js";

const [dir, countText] = process.argv.slice(2);
if (dir === undefined || countText === undefined) throw new Error("usage: lock-race.fixture.ts <dir> <count>");
const count = Number(countText);
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
const won: number[] = [];
const locked: Array<{ index: number; message: string }> = [];
for (let index = 0; index < count; index++) {
  try {
    await acquireRunLock({ path: join(dir, `run-${index}.lock`), ttlSeconds: 3600 });
    won.push(index);
  } catch (error) {
    if (!isCouncilError(error, "RUN_LOCKED")) throw error;
    locked.push({ index, message: error.message });
  }
}
process.stdout.write(JSON.stringify({ pid: process.pid, won, locked }) + "\n");
await new Promise((resolve) => process.stdin.once("end", resolve).resume());
