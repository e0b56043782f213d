import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../core/index.js";

export interface Replica {
  name: string;
  child: ChildProcessWithoutNullStreams;
  httpUrl: string;
  wsUrl: string;
  log: () => string;
  exited: Promise<number | null>;
}

/** `council serve --port 0` as a user runs it, with `env` (its own data dir, the shared Postgres database), once /health answers 200. */
export async function startReplica(name: string, env: Record<string, string>): Promise<Replica> {
  const base = { ...process.env };
  delete base.VITEST;
  const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "serve", "--port", "0"], { cwd: PROJECT_ROOT, env: { ...base, ...env } });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let httpUrl: string | undefined;
  for (let i = 0; i < 1200 && httpUrl === undefined && child.exitCode === null; i++) {
    httpUrl = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
    if (httpUrl === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (httpUrl === undefined) throw new Error(`replica ${name} did not start:\n${out}`);
  for (let i = 0; i < 1200; i++) {
    if ((await fetch(`${httpUrl}/health`)).status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, child, httpUrl, wsUrl: `${httpUrl.replace("http", "ws")}/chat`, log: () => out, exited };
}
