import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../core/index.js";

export interface RaceResult {
  pid: number;
  won: number[];
  locked: Array<{ index: number; message: string }>;
}

export interface LockRaceChild {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the child is ready; write "go\n" to its stdin to start it. */
  ready: Promise<void>;
  result: Promise<RaceResult>;
  exited: Promise<number | null>;
}

/** Starts cron/lock-race.fixture.ts with these arguments (see its usage). */
export function startLockRaceChild(args: string[]): LockRaceChild {
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "cron", "lock-race.fixture.ts"), ...args], { cwd: PROJECT_ROOT });
  let out = "";
  let err = "";
  child.stderr.on("data", (chunk) => (err += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk) => {
      out += chunk;
      if (out.startsWith("ready\n")) resolve();
    });
    void exited.then(() => reject(new Error(`child exited before ready: ${err}`)));
  });
  const result = new Promise<RaceResult>((resolve, reject) => {
    child.stdout.on("data", () => {
      const line = out.split("\n")[1];
      if (line && out.split("\n").length > 2) resolve(JSON.parse(line) as RaceResult);
    });
    void exited.then((code) => reject(new Error(`child exited ${code} without a result: ${err}`)));
  });
  return { child, ready, result, exited };
}
