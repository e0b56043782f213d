import { spawn } from "node:child_process";
import { existsSync, readFileSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { buildTldrBench } from "../../bench/improve/index.js";
import { askAndRate } from "../../bench/improve/simulated-user.js";
import { createMetrics, loadConfig, PROJECT_ROOT, SEEDLING_PATH, silentLogger } from "../../core/index.js";
import { createCouncilRuntime, type RunSummary } from "../../council/index.js";
import { writeServerInfo } from "../../scripts/commands/local-server.js";
import { startServer } from "../../server/index.js";

/**
 * The loop on real components: the seedling answers tldr questions it never saw, users rate 👎,
 * `council nightly --once` (a separate process, through the server's admin API) harvests, rewrites, votes,
 * trains a LoRA adapter with the native trainer, gates it, publishes it, runs the canary on live traffic and
 * promotes it: the server reads loras/current, serves the new version, failed questions now pass, and
 * yesterday's passes still pass. (council/bad-adapter-gate.int.test.ts shows the gate stopping a bad adapter;
 * deploy/canary.int.test.ts and ops/prometheus show the canary rolling one back.)
 */
const TLDR = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr", "pages");
const ADMIN = "closed-loop-admin-token";
const INSTANCE = "closed-loop-instance-0123456789";
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function runNightly(env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts"), "nightly", "--once", "--json"], { cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

it.runIf(existsSync(TLDR) && existsSync(SEEDLING_PATH))(
  "tonight's failures are fixed by morning: a trained adapter either passes the gate and the canary and is served, or the gate stops it and verified memory ships the fixes",
  async () => {
    const root = await mkdtemp(join(tmpdir(), "council-closed-loop-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    // tar and grep, 12 questions: the reading seedling (bench/seedling-reading.ts) answers most tldr questions right when
    // the page is indexed; among these it gets three wrong at 40 tokens (tar 4 and 6, grep 4), so the night has work.
    const bench = buildTldrBench({ root: TLDR, pages: ["tar", "grep"], limit: 12, evalLimit: 2 });
    const kbDir = join(root, "tldr-kb");
    await mkdir(kbDir);
    for (const { page, markdown } of bench.kbPages) await writeFile(join(kbDir, `${page}.md`), markdown);

    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: join(root, "data"),
        logLevel: "silent",
        model: { threads: 1, parallel: 1, maxTokens: 40 },
        server: { host: "127.0.0.1", port: 0, adminToken: ADMIN, instanceId: INSTANCE },
        kb: { extraDirs: [kbDir] },
        agents: { router: "heuristic", critic: "heuristic", agent0: "heuristic", maxRevisions: 0 },
        // Default success bar (0.85, or no worse than stable when stable itself is below it). Latency bars raised:
        // the gate times the base through a zero-B twin of the candidate (same per-token cost), but on a shared
        // machine one run measured p95 2014 vs 491 ms from load alone. This test is about learning and serving; the
        // latency rule is covered by the graph's unit tests.
        improve: { canarySteps: "50,100", canaryIntervalSeconds: 3, canaryMinRequests: 1, canaryDeadlineSeconds: 600, rollbackMaxP95Ms: 120_000, gateMaxLatencyRatio: 10, enabled: false },
        training: { maxUserShare: 1 },
      },
    });
    const metrics = createMetrics();
    const bundle = await createCouncilRuntime({ config, metrics });
    const server = await startServer({ config, logger: silentLogger, metrics, loading: Promise.resolve(bundle.council), improvement: { runOnce: () => bundle.improvement!.runOnce(), approve: (o) => bundle.improvement!.approve(o), runs: (n) => bundle.improvement!.runs(n), reloadAdapters: () => bundle.serving!.reload() } });
    cleanups.push(() => server.stop());
    await server.loaded;
    // What `council serve` does: the CLI of this data dir finds the server through server.json and verifies it.
    writeServerInfo(config.dataDir, { pid: process.pid, host: "127.0.0.1", port: Number(new URL(server.url).port), instanceId: INSTANCE, startedAt: Date.now() });
    const url = `${server.url.replace(/^http/, "ws")}/chat`;
    let user = 0;
    const ask = (item: (typeof bench.traffic)[number], rate = true) => askAndRate({ item, url, token: `user-${user++}`, sessionId: `s-${user}`, rate });

    // Day 1: every question once, rated by the simulated user (👍 when right by the bench's regexes, else 👎).
    const before = [];
    for (const item of bench.traffic) before.push({ item, asked: await ask(item) });
    // What failed: a draft the council's critic failed (harvested even when the user got a right fallback instead —
    // the draft itself is never delivered), or an answer the user rated 👎.
    const failed = before.filter((b) => !b.asked.councilSuccess || !b.asked.passed).map((b) => b.item);
    const passed = before.filter((b) => b.asked.councilSuccess && b.asked.passed).map((b) => b.item);
    expect(failed.length, "the seedling should get some tldr questions wrong").toBeGreaterThan(0);
    expect(before.every((b) => b.asked.adapter === null)).toBe(true);
    for (const { asked } of before.filter((b) => !b.asked.councilSuccess)) expect(asked.source).toBe("fallback");

    // Night: the nightly command runs in another process and drives this server; users keep chatting (canary traffic).
    const nightly = runNightly({ COUNCIL_DATA_DIR: config.dataDir, COUNCIL_ADMIN_TOKEN: ADMIN, COUNCIL_LOG_LEVEL: "silent" });
    let done = false;
    void nightly.then(() => (done = true));
    const canaryTraffic: Array<string | null> = [];
    while (!done) {
      for (const item of failed) {
        if (done) break;
        canaryTraffic.push((await ask(item, false)).adapter);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const { code, stdout, stderr } = await nightly;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    expect(summary.harvested).toBe(failed.length);
    expect(summary.accepted).toBeGreaterThan(0);
    const gate = JSON.parse(readFileSync(join(config.dataDir, "data", "runs", summary.runId, "gate.json"), "utf8")) as { suites: Array<{ suite: string; total: number }>; probes: unknown[] };
    expect(gate.suites.map((s) => s.suite).sort()).toEqual(["holdout", "regression", "safety", "target"]);
    expect(gate.suites.find((s) => s.suite === "target")?.total).toBe(summary.accepted);
    console.log(`closed loop: ${summary.outcome} ${summary.version ?? ""}; harvested ${summary.harvested}, accepted ${summary.accepted}, loss ${summary.finalLoss}, training ${summary.trainingSeconds.toFixed(0)} s; ${summary.reasons.join("; ")}`);
    // On the reading seedling, an adapter trained on a handful of fixes can break answers it knew (measured: 3 of 10
    // earlier passes regress at the default learning rate): then the gate must stop it, and the fixes ship as verified
    // memory on their own gate. When the adapter passes, it must go through the canary and be served.
    expect(["promoted", "gate-failed"], summary.reasons.join("; ")).toContain(summary.outcome);
    let version: string | null = null;
    if (summary.outcome === "promoted") {
      version = summary.version!;
      expect(existsSync(join(config.dataDir, "loras", "versions", version, "adapter.gguf"))).toBe(true);
      expect(canaryTraffic, "live users were served by the canary during the night").toContain(version);
      expect(readlinkSync(join(config.dataDir, "loras", "current"))).toContain(version);
      const serving = await bundle.serving!.reload();
      expect(serving.version).toBe(version);
    } else {
      expect(summary.reasons.join("; ")).toMatch(/regression|target/);
      expect(summary.memory?.released ?? 0, "the accepted fixes ship as verified memory").toBeGreaterThan(0);
      expect(canaryTraffic.every((adapter) => adapter === null), "a gate-failed adapter never reaches users").toBe(true);
    }

    // Day 2: yesterday's failures pass; yesterday's passes still pass.
    const after = [];
    for (const item of [...failed, ...passed]) after.push({ item, asked: await ask(item, false) });
    // The adapter is scoped to the questions it was trained to fix: yesterday's passes stay on the base model.
    for (const { item, asked } of after) {
      if (failed.includes(item)) expect([version, null], item.question).toContain(asked.adapter);
      else expect(asked.adapter, item.question).toBeNull();
    }
    if (version !== null) expect(after.some((a) => a.asked.adapter === version), "the promoted adapter answers the questions it learned").toBe(true);
    // Fixed: the council now answers it itself (verified memory or the adapter), right by the bench's regexes.
    const fixedItems = after.filter((a) => failed.includes(a.item) && a.asked.passed && a.asked.councilSuccess);
    const fixed = fixedItems.length;
    const fromMemory = fixedItems.filter((a) => a.asked.source === "memory").length;
    console.log(`closed loop day 2: ${fixed} of ${failed.length} failed questions now pass (${fromMemory} from verified memory, ${fixed - fromMemory} from the adapter); ${passed.length} earlier passes checked`);
    expect(fixed, JSON.stringify(after.map((a) => [a.item.question, a.asked.answer]))).toBeGreaterThan(0);
    for (const { item, asked } of after.filter((a) => passed.includes(a.item))) expect(asked.passed, `${item.question}: ${asked.answer}`).toBe(true);
  },
  3_600_000,
);
