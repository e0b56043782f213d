import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readRunProgress, runProgressPath, RunProgressWriter } from "../../council/index.js";
import { formatRunningNight, ProgressWatcher } from "./run-progress-view.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});
async function runsDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "council-progress-"));
  dirs.push(dir);
  return dir;
}

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: Object.assign({ write: (chunk: string) => (chunks.push(chunk), true) }, { isTTY }) as unknown as NodeJS.WritableStream & { isTTY: boolean } };
}

const epoch = (n: number, of = 200) => ({ kind: "epoch" as const, epoch: n, epochs: of, step: n * 6, steps: of * 6, loss: 2 / n, tokensPerSecond: 100, etaSeconds: (of - n) * 3 });

describe("a running night's progress (<runs>/progress.json)", () => {
  it("is written per stage and epoch, read back while the process lives, and removed only by the writer that wrote it", async () => {
    const dir = await runsDir();
    let now = 1_000_000;
    const writer = new RunProgressWriter({ runsDir: dir, now: () => now });
    writer.stage("run-1", "harvest");
    now += 5_000;
    writer.stage("run-1", "dataset", { harvested: 5, accepted: 3, rejected: 2 });
    now += 5_000;
    writer.stage("run-1", "train", { harvested: 5, accepted: 3, rejected: 2 });
    writer.training(epoch(12));
    expect(readRunProgress(dir)).toMatchObject({ runId: "run-1", stage: "train", startedAt: 1_000_000, stageStartedAt: 1_010_000, harvested: 5, accepted: 3, training: { epoch: 12, epochs: 200 } });
    expect(readRunProgress(dir, { isAlive: () => false })).toBeUndefined();

    new RunProgressWriter({ runsDir: dir }).clear(); // a RUN_LOCKED attempt in another process
    expect(existsSync(runProgressPath(dir))).toBe(true);
    writer.clear();
    expect(existsSync(runProgressPath(dir))).toBe(false);
  });

  it("prints plain lines without a TTY: each stage, the effective epochs, a training line at most every 15 s and the last epoch", async () => {
    const dir = await runsDir();
    let now = 0;
    const writer = new RunProgressWriter({ runsDir: dir, now: () => now });
    const out = sink(false);
    const watcher = new ProgressWatcher({ runsDir: dir, stream: out.stream, now: () => now });
    writer.stage("run-1", "harvest");
    watcher.poll();
    watcher.poll();
    writer.stage("run-1", "vote", { harvested: 4 });
    watcher.poll();
    writer.stage("run-1", "train", { harvested: 4, accepted: 3, rejected: 1 });
    watcher.poll();
    for (let n = 1; n <= 200; n++) {
      now += 1_000;
      writer.training(epoch(n));
      watcher.poll();
    }
    writer.stage("run-1", "gate", { harvested: 4, accepted: 3, rejected: 1 });
    watcher.poll();
    watcher.stop();
    const lines = out.chunks.join("").trimEnd().split("\n");
    expect(lines[0]).toMatch(/^night run-1 \+0s · harvest: harvesting failures$/);
    expect(lines[1]).toContain("vote: council voting · harvested 4");
    expect(lines[2]).toContain("train: training the adapter · harvested 4, vote 3 accepted / 1 rejected");
    expect(lines[3]).toContain("train: epoch 1/200 loss 2.000 ETA 9m57s");
    expect(lines.filter((l) => l.includes("train: epoch")).length).toBeLessThanOrEqual(16);
    expect(lines.at(-2)).toContain("train: epoch 200/200");
    expect(lines.at(-1)).toContain("gate: eval gate");
  });

  it("rewrites one line on a TTY and ends it with a newline", async () => {
    const dir = await runsDir();
    const writer = new RunProgressWriter({ runsDir: dir, now: () => 0 });
    const out = sink(true);
    const watcher = new ProgressWatcher({ runsDir: dir, stream: out.stream, now: () => 0 });
    writer.stage("run-1", "train");
    writer.training(epoch(1));
    watcher.poll();
    watcher.poll();
    writer.training(epoch(2));
    watcher.poll();
    watcher.stop();
    expect(out.chunks).toHaveLength(3);
    const CLEAR_LINE = "\r\u001b[K";
    expect(out.chunks[0]!.startsWith(`${CLEAR_LINE}night run-1 `)).toBe(true);
    expect(out.chunks[0]).toContain("epoch 1/200");
    expect(out.chunks[1]!.startsWith(CLEAR_LINE)).toBe(true);
    expect(out.chunks[1]).toContain("epoch 2/200");
    expect(out.chunks[2]).toBe("\n");
  });

  it("a progress file from a dead process or another version shows nothing", async () => {
    const dir = await runsDir();
    await writeFile(runProgressPath(dir), JSON.stringify({ runId: "run-x", pid: 999_999_999, stage: "train", startedAt: 0, stageStartedAt: 0 }));
    expect(readRunProgress(dir)).toBeUndefined();
    await writeFile(runProgressPath(dir), "{ not json");
    expect(readRunProgress(dir)).toBeUndefined();
  });

  it("status names the run, its stage and when it started", () => {
    const line = formatRunningNight({ runId: "run-7", pid: 1, stage: "gate", startedAt: Date.UTC(2026, 0, 1, 2), stageStartedAt: Date.UTC(2026, 0, 1, 2, 9) }, Date.UTC(2026, 0, 1, 2, 10));
    expect(line).toBe("running night: run-7, stage gate (since 2026-01-01T02:09:00.000Z), started 2026-01-01T02:00:00.000Z — night run-7 +10m00s · gate: eval gate");
  });
});
