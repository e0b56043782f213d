import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError, PROJECT_ROOT } from "../../core/index.js";

const CLI = join(PROJECT_ROOT, "scripts", "cli.ts");

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no free port"))));
    });
    probe.once("error", reject);
  });
}

/**
 * Runs `council <args>` (scripts/cli.ts through tsx) as a child process; its stderr goes to `logFile`, and so
 * does its stdout with `stdoutToLog` (the server's pino log) — otherwise the caller reads stdout.
 */
export function spawnCouncil({ args, env, logFile, stdoutToLog = false }: { args: string[]; env: NodeJS.ProcessEnv; logFile: string; stdoutToLog?: boolean }): ChildProcess {
  const log = createWriteStream(logFile, { flags: "a" });
  const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
  child.stderr!.pipe(log, { end: false });
  if (stdoutToLog) child.stdout!.pipe(log, { end: false });
  child.once("close", () => log.end());
  return child;
}

export interface ServerProcess {
  url: string;
  wsUrl: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `council serve` on 127.0.0.1:<port> and waits for GET /health to answer 200 (the model is loaded). */
export async function startCouncilServer({ env, port, logFile, readyTimeoutMs = 900_000 }: { env: NodeJS.ProcessEnv; port: number; logFile: string; readyTimeoutMs?: number }): Promise<ServerProcess> {
  const child = spawnCouncil({ args: ["serve", "--host", "127.0.0.1", "--port", String(port)], env, logFile, stdoutToLog: true });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new CouncilError("BACKEND_UNAVAILABLE", `council serve exited with ${child.exitCode} before it was ready; see ${logFile}.`);
    const status = await fetch(`${url}/health`).then((response) => response.status, () => 0);
    if (status === 200) break;
    if (Date.now() > deadline) {
      child.kill("SIGTERM");
      throw new CouncilError("TIMEOUT", `council serve was not ready within ${readyTimeoutMs / 1000} s; see ${logFile}.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return {
    url,
    wsUrl: `ws://127.0.0.1:${port}/chat`,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The fields of the nightly RunSummary (graphs/improve) the benchmark reads; the rest passes through. */
export const nightlySummarySchema = z
  .object({
    runId: z.string(),
    outcome: z.string(),
    reasons: z.array(z.string()).default([]),
    harvested: z.number(),
    accepted: z.number(),
    trainingSeconds: z.number(),
    version: z.string().nullable().optional(),
  })
  .passthrough();
export type NightlySummary = z.infer<typeof nightlySummarySchema>;

/** Parses `council nightly --once --json` output: the JSON object that starts on the first line beginning with `{`. */
export function parseNightlyOutput(stdout: string): NightlySummary {
  const start = stdout.search(/^\{/m);
  if (start < 0) throw new CouncilError("BACKEND_UNAVAILABLE", `council nightly printed no JSON summary: ${stdout.slice(-500)}`);
  let raw: unknown;
  try {
    raw = JSON.parse(stdout.slice(start));
  } catch (error) {
    throw new CouncilError("BACKEND_UNAVAILABLE", `council nightly printed invalid JSON: ${(error as Error).message}`, { cause: error });
  }
  if (typeof raw === "object" && raw !== null && (raw as { outcome?: unknown }).outcome === "locked") {
    throw new CouncilError("RUN_LOCKED", `council nightly: another run holds the lock: ${String((raw as { reason?: unknown }).reason)}`);
  }
  const parsed = nightlySummarySchema.safeParse(raw);
  if (!parsed.success) throw new CouncilError("BACKEND_UNAVAILABLE", `council nightly's summary does not match RunSummary: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, "utf8").trim().split("\n").slice(-3).join(" | ").slice(-800);
  } catch (error) {
    return `(log unreadable: ${(error as Error).message})`;
  }
}

/** Runs `council nightly --once --json` against the running server and returns its summary. */
export async function runNightlyOnce({ env, logFile }: { env: NodeJS.ProcessEnv; logFile: string }): Promise<NightlySummary> {
  const child = spawnCouncil({ args: ["nightly", "--once", "--json"], env, logFile });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", (exitCode) => resolve(exitCode)));
  if (code !== 0) throw new CouncilError("BACKEND_UNAVAILABLE", `council nightly --once exited with ${code}: ${logTail(logFile)} (full log: ${logFile}). Output: ${stdout.slice(-500)}`);
  return parseNightlyOutput(stdout);
}
