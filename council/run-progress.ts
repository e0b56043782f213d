import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { z } from "zod";
import { safeParseJson } from "../core/index.js";
import { pidIsAlive } from "../cron/index.js";
import type { TrainProgress } from "../training/index.js";

/**
 * Where a running night says what it is doing: `<dataDir>/data/runs/progress.json`, rewritten at every stage and
 * training epoch, removed when the run ends. `npx council nightly --once` prints it while it waits and
 * `npx council status` shows it; both read it from the data dir, so it works for runs in the server and in the CLI.
 */
export const runProgressSchema = z.object({
  runId: z.string(),
  pid: z.number().int().positive(),
  stage: z.string(),
  /** Unix ms. */
  startedAt: z.number(),
  stageStartedAt: z.number(),
  harvested: z.number().optional(),
  candidates: z.number().optional(),
  accepted: z.number().optional(),
  rejected: z.number().optional(),
  training: z.object({ epoch: z.number(), epochs: z.number(), step: z.number(), steps: z.number(), loss: z.number(), etaSeconds: z.number().nullable() }).optional(),
});
export type RunProgress = z.infer<typeof runProgressSchema>;

export const runProgressPath = (runsDir: string): string => join(runsDir, "progress.json");

/** The progress of the night running now, or undefined (none, or its process is gone). */
export function readRunProgress(runsDir: string, { isAlive = pidIsAlive }: { isAlive?: (pid: number) => boolean } = {}): RunProgress | undefined {
  let text: string;
  try {
    text = readFileSync(runProgressPath(runsDir), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
  const parsed = safeParseJson(text, runProgressSchema);
  // A half-written file cannot happen (rename), so a bad one is from another version: treat as no progress.
  if (!parsed.success || !isAlive(parsed.value.pid)) return undefined;
  return parsed.value;
}

/** Writes progress.json for the runs of this process. */
export class RunProgressWriter {
  readonly #path: string;
  readonly #now: () => number;
  #current: RunProgress | undefined;

  constructor({ runsDir, now = Date.now }: { runsDir: string; now?: () => number }) {
    this.#path = runProgressPath(runsDir);
    this.#now = now;
  }

  /** A node of the improvement graph started; `counts` are what the state knows by then. */
  stage(runId: string, stage: string, counts: Pick<RunProgress, "harvested" | "candidates" | "accepted" | "rejected"> = {}): void {
    const at = this.#now();
    const same = this.#current?.runId === runId ? this.#current : undefined;
    this.#write({ ...(same ?? {}), ...counts, runId, pid: process.pid, stage, startedAt: same?.startedAt ?? at, stageStartedAt: at, training: undefined });
  }

  training(progress: TrainProgress): void {
    if (this.#current === undefined) return;
    this.#write({ ...this.#current, training: { epoch: progress.epoch, epochs: progress.epochs, step: progress.step, steps: progress.steps, loss: progress.loss, etaSeconds: progress.etaSeconds ?? null } });
  }

  /** Removes progress.json if this writer wrote it (never another process's: a RUN_LOCKED attempt clears nothing). */
  clear(): void {
    if (this.#current === undefined) return;
    this.#current = undefined;
    rmSync(this.#path, { force: true });
  }

  #write(progress: RunProgress): void {
    this.#current = progress;
    mkdirSync(dirname(this.#path), { recursive: true });
    const temp = `${this.#path}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(progress));
    renameSync(temp, this.#path);
  }
}
