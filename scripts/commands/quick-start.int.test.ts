import { existsSync, statSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { askAndRate } from "../../bench/improve/simulated-user.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { runCli, spawnCli } from "../../test/helpers/run-cli.js";

/** The README quick start with no COUNCIL_ADMIN_TOKEN: `npm start`, then `npx council nightly --once` (real processes, model, sockets). */
describe("quick start as the README runs it: serve, ask, 👎, nightly --once, status — no admin token configured", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("the nightly run happens in the server, authorised by <dataDir>/admin-token; stdout is one JSON document; server.json goes at shutdown", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-quick-start-"));
    dirs.push(dir);
    const modelPath = await createTinyModel({ dir });
    // The night releases verified memory only (COUNCIL_IMPROVE_CHANNELS=memory): LoRA training on a real model is the
    // closed-loop e2e's subject and takes minutes; everything else runs as a user runs it.
    const env = { COUNCIL_DATA_DIR: dir, COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_MAX_TOKENS: "16", COUNCIL_LOG_LEVEL: "warn", COUNCIL_IMPROVE_ENABLED: "false", COUNCIL_ADMIN_TOKEN: "", COUNCIL_IMPROVE_CHANNELS: "memory" };
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

      // Ask (the README's `npx council ask`): an answer comes back, and it names its source.
      const question = "How do I extract a .tar.gz file?";
      const asked = await runCli(["ask", question], env);
      expect(asked.code, asked.stderr).toBe(0);
      expect(asked.stdout.trim().length).toBeGreaterThan(0);
      expect(asked.stderr).toMatch(/model · adapter|verified answer|fallback/);
      // 👎 on the answer (the asker rates on its own connection, as the web page does).
      const rated = await askAndRate({ item: { id: "q1", question, accept: ["^never matches$"] }, url: `ws://127.0.0.1:${info.port}/chat`, token: "quick-start-user-0001", sessionId: "quick-start" });
      expect(rated.rated).toBe(-1);

      const nightly = await runCli(["nightly", "--once", "--json"], env);
      expect(nightly.code, nightly.stderr).toBe(0);
      const summary = JSON.parse(nightly.stdout) as { runId: string; outcome: string; harvested: number; memory?: { released: number } | null };
      expect(summary.harvested).toBe(1);
      const ballots = () => readFile(join(dir, "data", "runs", summary.runId, "ballots.json"), "utf8").catch(() => "(no ballots)");
      expect(summary.outcome, await ballots()).toBe("memory-only");
      expect(summary.memory?.released).toBe(1);
      // It ran in the server, not in the CLI process: the server's own registry counted it.
      expect(await (await fetch(`http://127.0.0.1:${info.port}/metrics`)).text()).toMatch(/council_improvement_runs_total\{status="memory-only"\} 1/);
      const status = await runCli(["status"], env);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toContain(summary.runId);
      // The next morning the council answers from what it verified.
      const again = await runCli(["ask", question], env);
      expect(again.stderr).toMatch(/verified answer v-/);
      expect(again.stdout).toMatch(/tar -?x/);

      child.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(existsSync(join(dir, "server.json"))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});
