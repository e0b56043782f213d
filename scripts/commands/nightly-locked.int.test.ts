import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { dataPaths, loadConfig } from "../../core/index.js";
import { RunProgressWriter } from "../../council/index.js";
import { acquireRunLock, nightlyLockPath } from "../../cron/index.js";
import { runCli } from "../../test/helpers/run-cli.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";

/** A night is running (lock held, progress written by this process): a second `nightly` and `status` say so usefully. */
describe("a second nightly while one runs (real CLI processes, real lock file, real model)", () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it("nightly --once prints the running night and a command to follow it; status shows run id, stage and start", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-locked-"));
    dirs.push(dir);
    const modelPath = await createTinyModel({ dir });
    const config = loadConfig({ env: {}, overrides: { dataDir: dir } });
    const lock = await acquireRunLock({ path: nightlyLockPath(config), ttlSeconds: 3600, purpose: "nightly improvement" });
    const progress = new RunProgressWriter({ runsDir: dataPaths(config).runs });
    try {
      progress.stage("run-20260101T020000-abcd", "train", { harvested: 5, accepted: 3, rejected: 2 });
      progress.training({ kind: "epoch", epoch: 12, epochs: 200, step: 72, steps: 1200, loss: 1.234, tokensPerSecond: 50, etaSeconds: 490 });
      const env = { COUNCIL_DATA_DIR: dir, COUNCIL_MODEL: modelPath, COUNCIL_THREADS: "1", COUNCIL_PARALLEL: "1", COUNCIL_LOG_LEVEL: "warn" };

      const second = await runCli(["nightly", "--once"], env);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stdout).toContain("locked: night run-20260101T020000-abcd is at stage train");
      expect(second.stdout).toContain("follow it with: npx council status");
      expect(second.stdout + second.stderr).not.toContain("/api/improve/job");

      const status = await runCli(["status"], env);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/running night: run-20260101T020000-abcd, stage train \(since \S+\), started \S+/);
      expect(status.stdout).toContain("train: epoch 12/200 loss 1.234 ETA 8m10s");
    } finally {
      progress.clear();
      await lock.release();
    }
  });
});
