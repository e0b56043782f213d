import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../core/index.js";

/**
 * Spawns the CLI (scripts/cli.ts through tsx, the same code `npm run build` compiles) with `env` on top of the
 * current environment, minus VITEST: the child must behave as for a user (VITEST silences its logs).
 */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): ChildProcessWithoutNullStreams {
  const base = { ...process.env };
  delete base.VITEST;
  return spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), ...args], { cwd: PROJECT_ROOT, env: { ...base, ...env } });
}

export function runCli(args: readonly string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawnCli(args, env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
