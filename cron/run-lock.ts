import { randomBytes } from "node:crypto";
import { hostname as osHostname } from "node:os";
import { link, mkdir, open, readFile, rename, stat, unlink } from "node:fs/promises";
import { dirname } from "node:path";
import { z } from "zod";
import { CouncilError, safeParseJson, silentLogger, type Logger } from "../core/index.js";

export const lockInfoSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string(),
  startedAt: z.string(),
  ttlSeconds: z.number().positive(),
  /** Random per acquisition: proves a lock file is still ours before it is broken or released. */
  nonce: z.string(),
  purpose: z.string().optional(),
});
export type LockInfo = z.infer<typeof lockInfoSchema>;

export interface RunLock {
  readonly path: string;
  readonly info: LockInfo;
  /** Removes the lock if it is still ours (a lock broken and re-taken by another run is left alone). */
  release(): Promise<void>;
}

export interface AcquireRunLockOptions {
  /** The lock file, e.g. data/runs/nightly.lock */
  path: string;
  /** After this, the lock counts as stale whatever its pid (config.improve.lockTtlSeconds). */
  ttlSeconds: number;
  purpose?: string;
  logger?: Logger;
  now?: () => Date;
  pid?: number;
  host?: string;
  /** Whether a pid on this host is alive. @default process.kill(pid, 0) */
  isAlive?: (pid: number) => boolean;
}

export function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Takes the run lock or throws RUN_LOCKED naming the holder. The lock file (pid, host, start time, TTL, nonce)
 * is written completely to a temp file and published with `link()`, which fails if the lock exists: exactly one
 * of any number of racing processes wins, and nobody ever reads a half-written lock.
 *
 * A lock is stale when its TTL has passed, or when it was taken on this host by a pid that no longer runs.
 * A stale lock is broken by renaming it aside and checking the renamed file still carries the stale nonce;
 * if another process replaced it in between, the fresh lock is put back and this caller gets RUN_LOCKED.
 */
export async function acquireRunLock({ path, ttlSeconds, purpose, logger = silentLogger, now = () => new Date(), pid = process.pid, host = osHostname(), isAlive = pidIsAlive }: AcquireRunLockOptions): Promise<RunLock> {
  await mkdir(dirname(path), { recursive: true });
  const info: LockInfo = { pid, host, startedAt: now().toISOString(), ttlSeconds, nonce: randomBytes(12).toString("hex"), ...(purpose ? { purpose } : {}) };
  const temp = `${path}.${pid}.${info.nonce}.tmp`;
  const handle = await open(temp, "wx", 0o644);
  try {
    await handle.writeFile(JSON.stringify(info) + "\n");
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        await link(temp, path);
        logger.info({ path, pid, host }, "run lock acquired");
        return { path, info, release: () => releaseIfOurs(path, info.nonce, logger) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      const holder = await readLock(path);
      if (holder === "gone") continue;
      const staleWhy = staleReason({ holder, now: now(), host, isAlive });
      if (staleWhy === null) throw lockedError(path, holder);
      logger.warn({ path, holder: holder.info, reason: staleWhy }, "breaking a stale run lock");
      await breakStale(path, holder);
    }
    throw new CouncilError("RUN_LOCKED", `Could not take the run lock ${path}: it kept changing hands.`);
  } finally {
    await unlink(temp).catch(() => undefined);
  }
}

/** Runs `task` under the lock, releasing it afterwards (also on failure). */
export async function withRunLock<T>(options: AcquireRunLockOptions, task: (lock: RunLock) => Promise<T>): Promise<T> {
  const lock = await acquireRunLock(options);
  try {
    return await task(lock);
  } finally {
    await lock.release();
  }
}

type Holder = { info: LockInfo; raw: string; mtime: Date } | { info: null; raw: string; mtime: Date };

async function readLock(path: string): Promise<Holder | "gone"> {
  let raw: string;
  let mtime: Date;
  try {
    [raw, mtime] = await Promise.all([readFile(path, "utf8"), stat(path).then((s) => s.mtime)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    throw error;
  }
  const parsed = safeParseJson(raw, lockInfoSchema);
  return { info: parsed.success ? parsed.value : null, raw, mtime };
}

function staleReason({ holder, now, host, isAlive }: { holder: Holder; now: Date; host: string; isAlive: (pid: number) => boolean }): string | null {
  if (holder.info === null) {
    // Not written by us (we publish complete files only): stale once it is older than a day.
    return now.getTime() - holder.mtime.getTime() > 86_400_000 ? "unreadable lock older than a day" : null;
  }
  const { info } = holder;
  const started = Date.parse(info.startedAt);
  if (Number.isFinite(started) && now.getTime() > started + info.ttlSeconds * 1000) return `TTL of ${info.ttlSeconds}s expired`;
  if (info.host === host && !isAlive(info.pid)) return `pid ${info.pid} is no longer running on ${host}`;
  return null;
}

async function breakStale(path: string, holder: Holder): Promise<void> {
  const tomb = `${path}.stale-${process.pid}-${randomBytes(6).toString("hex")}`;
  try {
    await rename(path, tomb);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return; // someone else broke it first
    throw error;
  }
  const moved = await readFile(tomb, "utf8").catch(() => "");
  if (moved !== holder.raw) {
    // We moved a lock that was re-taken after we looked at it: put it back and give up.
    await link(tomb, path).catch(() => undefined);
    await unlink(tomb).catch(() => undefined);
    const info = safeParseJson(moved, lockInfoSchema);
    throw lockedError(path, { info: info.success ? info.value : null, raw: moved, mtime: new Date() });
  }
  await unlink(tomb);
}

async function releaseIfOurs(path: string, nonce: string, logger: Logger): Promise<void> {
  const holder = await readLock(path);
  if (holder === "gone") return;
  if (holder.info?.nonce !== nonce) {
    logger.warn({ path }, "run lock was taken over by another run; not releasing it");
    return;
  }
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

function lockedError(path: string, holder: Holder): CouncilError {
  const who = holder.info ? `pid ${holder.info.pid} on ${holder.info.host} since ${holder.info.startedAt}` : "an unreadable lock file";
  return new CouncilError("RUN_LOCKED", `Another improvement run is in progress (locked by ${who}); remove ${path} only if that run is gone.`, {
    details: { path, ...(holder.info ? { pid: holder.info.pid, host: holder.info.host, startedAt: holder.info.startedAt } : {}) },
  });
}
