import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { askOverWebSocket } from "../../server/index.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";

describe("npx council serve (real process, real model, real sockets)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("listens, answers /health 503 then 200, serves a chat turn, and stops cleanly on SIGTERM", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-serve-"));
    dirs.push(dir);
    const modelPath = await createTinyModel({ dir });
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "serve", "--port", "0"], {
      cwd: PROJECT_ROOT,
      env: { ...process.env, COUNCIL_DATA_DIR: dir, COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_MAX_TOKENS: "16", COUNCIL_LOG_LEVEL: "warn" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      let url: string | undefined;
      for (let i = 0; i < 600 && url === undefined; i++) {
        url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1];
        if (url === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(url, stderr).toBeDefined();
      const statuses = new Set<number>();
      for (let i = 0; i < 1200 && !statuses.has(200); i++) {
        statuses.add((await fetch(`${url}/health`)).status);
        if (!statuses.has(200)) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(statuses.has(200), stderr).toBe(true);
      const tokens: string[] = [];
      const final = await askOverWebSocket({ url: `${url!.replace("http", "ws")}/chat`, text: "how do I extract a tar archive", onToken: (text) => tokens.push(text) });
      expect(final.trace_id).toEqual(expect.any(String));
      expect(tokens.length).toBeGreaterThan(0);
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/council_requests_total\{route="[^"]+",adapter="base",outcome="(success|failure)"\} 1/);
      expect(metrics).toContain("process_resident_memory_bytes");
      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(stdout).toContain("council: stopped");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
