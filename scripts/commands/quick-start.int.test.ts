import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { runCli, spawnCli } from "../../test/helpers/run-cli.js";

/** The README quick start with no COUNCIL_ADMIN_TOKEN: `npm start`, then `npx council nightly --once` (real processes, model, sockets). */
describe("quick start: serve, then nightly --once, with no admin token configured", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("the nightly run happens in the server, authorised by <dataDir>/admin-token; stdout is one JSON document; server.json goes at shutdown", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-quick-start-"));
    dirs.push(dir);
    const modelPath = await createTinyModel({ dir });
    const env = { COUNCIL_DATA_DIR: dir, COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_MAX_TOKENS: "16", COUNCIL_LOG_LEVEL: "warn", COUNCIL_IMPROVE_ENABLED: "false", COUNCIL_ADMIN_TOKEN: "" };
    const child = spawnCli(["serve", "--port", "0"], env);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      for (let i = 0; i < 1200 && !stdout.includes("council: ready"); i++) await new Promise((resolve) => setTimeout(resolve, 100));
      expect(stdout, stderr).toContain("council: ready");

      const tokenFile = join(dir, "admin-token");
      expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
      const info = JSON.parse(await readFile(join(dir, "server.json"), "utf8")) as { pid: number; port: number; instanceId: string };
      expect(info.pid).toBe(child.pid);
      const health = (await (await fetch(`http://127.0.0.1:${info.port}/health`)).json()) as { instance?: string };
      expect(health.instance).toBe(info.instanceId);
      const token = (await readFile(tokenFile, "utf8")).trim();
      expect((await fetch(`http://127.0.0.1:${info.port}/api/improve/runs`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);

      const nightly = await runCli(["nightly", "--once", "--json"], env);
      expect(nightly.code, nightly.stderr).toBe(0);
      const summary = JSON.parse(nightly.stdout) as { runId: string; outcome: string };
      expect(summary.outcome).toBe("nothing-to-do");
      // It ran in the server, not in the CLI process: the server's own registry counted it.
      expect(await (await fetch(`http://127.0.0.1:${info.port}/metrics`)).text()).toMatch(/council_improvement_runs_total\{status="nothing-to-do"\} 1/);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(existsSync(join(dir, "server.json"))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
