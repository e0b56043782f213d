/**
 * Child process for the run-lock race tests: prints "ready", waits for "go" on stdin (a barrier shared with its
 * rival), then tries to take `count` locks (never releasing) and prints one JSON line with the result. It stays
 * alive (holding its locks) until its stdin closes, so the rival can never see them as stale.
 * Usage: node --import tsx cron/lock-race.fixture.ts file <dir> <count>       (lock files run-<i>.lock in dir)
 *        node --import tsx cron/lock-race.fixture.ts postgres <url> <count>   (advisory lock keys 1000+i, or 2000+i with a 4th argument "held")
 */
import { join } from "node:path";
import { isCouncilError } from "../core/index.js";
import { acquirePostgresRunLock } from "./postgres-run-lock.js";
import { acquireRunLock } from "./run-lock.js";

const [kind, target, countText, keys] = process.argv.slice(2);
if ((kind !== "file" && kind !== "postgres") || target === undefined || countText === undefined) throw new Error("usage: lock-race.fixture.ts file|postgres <dir|url> <count> [held]");
const count = Number(countText);
const base = keys === "held" ? 2000 : 1000;
const take = (index: number) =>
  kind === "file" ? acquireRunLock({ path: join(target, `run-${index}.lock`), ttlSeconds: 3600 }) : acquirePostgresRunLock({ url: target, key: base + index, ttlSeconds: 3600, purpose: `race ${index}` });
process.stdout.write("ready\n");
await new Promise<void>((resolve) => process.stdin.once("data", () => resolve()));
const won: number[] = [];
const locked: Array<{ index: number; message: string }> = [];
for (let index = 0; index < count; index++) {
  try {
    await take(index);
    won.push(index);
  } catch (error) {
    if (!isCouncilError(error, "RUN_LOCKED")) throw error;
    locked.push({ index, message: error.message });
  }
}
process.stdout.write(JSON.stringify({ pid: process.pid, won, locked }) + "\n");
await new Promise((resolve) => process.stdin.once("end", resolve).resume());
process.exit(0); // Postgres locks' connections would keep the process alive
