import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createMetrics, dataPaths, loadConfig, silentLogger } from "../core/index.js";
import { FileRunRecords, type RunRecord } from "../cron/index.js";
import type { ImprovePorts } from "../graphs/improve/index.js";
import type { MemoryStore, TurnRecord } from "../memory/types.js";
import { Improvement } from "./improvement.js";
import { readRunProgress, runProgressPath, type RunProgress } from "./run-progress.js";

const turn = (over: Partial<TurnRecord>): TurnRecord => ({
  traceId: "t", sessionId: "s", userId: "u", question: "q", answer: "a", route: "linux", model: "seedling", adapter: null,
  score: 0.2, category: "ungrounded", reasons: [], success: false, feedback: null, latencyMs: 5, tokens: 3, createdAt: 1_000, updatedAt: 1_000, ...over,
});

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** The ports after training, the same in every test here: a base that answers nothing right, an accepting canary. */
const AFTER_TRAINING = {
  answer: { answer: async () => ({ text: "I do not know", latencyMs: 1 }) },
  currentAdapterPath: async () => null,
  publish: async () => ({ version: "v1" }),
  canary: async () => ({ outcome: "promoted" as const, reason: "ok" }),
  evalSets: { holdout: [], safety: [] },
  probePrompts: [],
} satisfies Partial<ImprovePorts>;

describe("Improvement writes the night's progress for nightly --once and status", () => {
  it("stage by stage with harvest and vote counts, each training epoch, and removes it when the run ends", async () => {
    const root = await mkdtemp(join(tmpdir(), "council-improvement-progress-"));
    dirs.push(root);
    const config = loadConfig({ env: {}, overrides: { dataDir: root, logLevel: "silent", training: { maxUserShare: 1 } } });
    const runsDir = dataPaths(config).runs;
    const seen: Array<RunProgress | undefined> = [];
    const turns = [turn({ traceId: "t1", question: "how do I list files", createdAt: 1_000 }), turn({ traceId: "t2", question: "how do I see disk usage", createdAt: 2_000, userId: "v" })];
    const ports = {
      memory: { turns: async ({ since = 0, until = Infinity } = {}) => turns.filter((t) => t.createdAt >= since && t.createdAt < until) } as unknown as MemoryStore,
      rewrite: async (item) => [{ id: `${item.id}-kb`, itemId: item.id, text: `answer to ${item.question}`, source: "knowledge-base" }],
      vote: async (item, candidates) => ({ itemId: item.id, accepted: item.question.includes("list"), winnerId: candidates[0]!.id, winnerScore: 0.9, ballots: [], reason: "tally" }),
      promptMessages: async (question) => [{ role: "user", content: question }],
      train: async ({ outDir, onProgress }) => {
        seen.push(readRunProgress(runsDir));
        onProgress?.({ kind: "epoch", epoch: 1, epochs: 200, step: 1, steps: 200, loss: 1.5, tokensPerSecond: 10, etaSeconds: 99 });
        seen.push(readRunProgress(runsDir));
        await mkdir(outDir, { recursive: true });
        await writeFile(join(outDir, "adapter.gguf"), "GGUF");
        await writeFile(join(outDir, "training.json"), "{}");
        return { finalLoss: 1.5 };
      },
      ...AFTER_TRAINING,
    } satisfies ImprovePorts;
    const improvement = new Improvement({ config, ports, metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger, now: () => 10_000 });
    const summary = await improvement.runOnce();
    expect(summary.outcome).toBe("gate-failed");
    expect(seen[0]).toMatchObject({ stage: "train", harvested: 2, accepted: 1, rejected: 1, pid: process.pid });
    expect(seen[0]!.training).toBeUndefined();
    expect(seen[1]).toMatchObject({ stage: "train", training: { epoch: 1, epochs: 200, loss: 1.5, etaSeconds: 99 } });
    expect(existsSync(runProgressPath(runsDir))).toBe(false);
  });

  it("records the night through the run records it is given (the shared store): its stage while it runs, then its summary and report; runs() reads them back", async () => {
    const root = await mkdtemp(join(tmpdir(), "council-improvement-records-"));
    dirs.push(root);
    const config = loadConfig({ env: {}, overrides: { dataDir: join(root, "data-a"), logLevel: "silent" } });
    // Another folder stands for the shared store: what is recorded must come from the port, not the data dir.
    const runRecords = new FileRunRecords({ runsDir: join(root, "shared") });
    let during: RunRecord | null = null;
    const turns = [turn({ traceId: "t1", question: "how do I list files", createdAt: 1_000 })];
    const ports = {
      memory: { turns: async ({ since = 0, until = Infinity } = {}) => turns.filter((t) => t.createdAt >= since && t.createdAt < until) } as unknown as MemoryStore,
      rewrite: async (item) => [{ id: `${item.id}-kb`, itemId: item.id, text: "ls -la", source: "knowledge-base" }],
      vote: async (item, candidates) => {
        during = (await runRecords.list())[0] ?? null;
        return { itemId: item.id, accepted: false, winnerId: candidates[0]!.id, winnerScore: 0.1, ballots: [], reason: "vetoed" };
      },
      promptMessages: async (question) => [{ role: "user", content: question }],
      train: async () => ({ finalLoss: 0 }),
      ...AFTER_TRAINING,
    } satisfies ImprovePorts;
    const improvement = new Improvement({ config, ports, runRecords, metrics: createMetrics({ defaultMetrics: false }), logger: silentLogger, now: () => 10_000 });
    const summary = await improvement.runOnce();
    expect(during).toMatchObject({ runId: summary.runId, status: "running", stage: "vote", startedAt: 10_000 });
    const record = await runRecords.get(summary.runId);
    expect(record).toMatchObject({ status: "finished", outcome: summary.outcome, reasons: summary.reasons, summary: { ...summary } });
    expect(record?.report?.markdown).toContain(`# Morning report: ${summary.runId}`);
    expect(await improvement.runs()).toEqual([summary]);
    expect(existsSync(join(dataPaths(config).runs, summary.runId, "record.json"))).toBe(false);
  });
});
