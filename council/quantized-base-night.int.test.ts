import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadConfig, NATIVE_BUILD_DIR, silentLogger } from "../core/index.js";
import type { Candidate, ImprovePorts, VoteDecision } from "../graphs/improve/index.js";
import type { TurnRecord } from "../memory/index.js";
import { readGguf, sha256File } from "../models/gguf/index.js";
import { convertTinyModel } from "../test/helpers/base-models.js";
import { openRealNight } from "../test/helpers/real-night.js";
import { createTinyModel, TINY_MODEL_SHAPE } from "../test/helpers/tiny-model.js";
import { Improvement } from "./improvement.js";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * A user's base as users have it: a (small, random) qwen2 model stored as Q8_0 is COUNCIL_MODEL. One real night on it:
 * the served model answers, failures are harvested, the native trainer trains a LoRA adapter on the quantized base
 * (weights frozen, adapter F32), the gate runs the candidate on adapter slots of that same served model, the registry
 * publishes it only if it passes. Agent-0 and the vote are a stamp with the right answers (a random model cannot write
 * them); the canary step is a stand-in here (the canary itself runs on live traffic in test/e2e/closed-loop.int.test.ts
 * and deploy/canary.int.test.ts).
 */
it.runIf(existsSync(join(NATIVE_BUILD_DIR, "bin", "council-lora-train")))(
  "a night on a qwen2 Q8_0 base: the adapter is trained on that base and gated on it; the base file is untouched",
  async () => {
    const root = await mkdtemp(join(tmpdir(), "council-q8-night-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const base = await convertTinyModel({ src: await createTinyModel({ dir: root, shape: { ...TINY_MODEL_SHAPE, contextLength: 2048 } }), out: join(root, "qwen2-q8_0.gguf"), architecture: "qwen2", type: "Q8_0" });
    const baseHash = await sha256File(base);
    expect(readGguf(base).metadata.get("general.architecture")).toBe("qwen2");

    // No knowledge base (an empty folder): the prompts stay short enough for a 64-wide, 2-layer random model to learn three answers in one night.
    const emptyKb = join(root, "kb");
    await mkdir(emptyKb);
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: join(root, "data"),
        logLevel: "silent",
        model: { path: base, threads: 1, parallel: 1, maxTokens: 12 },
        agents: { router: "heuristic", critic: "heuristic", agent0: "heuristic", maxRevisions: 0 },
        kb: { dir: emptyKb },
        improve: { enabled: false },
        training: { maxUserShare: 1, minSteps: 400, learningRate: 1e-3, replayRatio: 0 },
      },
    });
    const night = await openRealNight(config);
    cleanups.push(() => night.dispose());
    const { metrics, registry, ports: real } = night;

    const RIGHT: Record<string, string> = { "How do I list files?": "ls -la", "How do I show disk usage?": "df -h", "How do I see my IP address?": "ip addr" };
    const t0 = Date.now() - 60_000;
    for (const [i, question] of Object.keys(RIGHT).entries()) {
      const before = (await real.answer.answer({ question, adapterPath: null })).text;
      const turn: TurnRecord = {
        traceId: `trace-${i}`, sessionId: `s-${i}`, userId: `user-${i}`, question, answer: before, route: "general", model: "qwen2-q8_0", adapter: null,
        score: 0.1, category: "user-rejected", reasons: [], success: false, feedback: { rating: -1, at: t0 + i }, latencyMs: 10, tokens: 10, createdAt: t0 + i, updatedAt: t0 + i,
      };
      await night.memory.record(turn);
    }
    let canaried: string | null = null;
    const ports: ImprovePorts = {
      ...real,
      rewrite: async (item) => [{ id: `${item.id}:right`, itemId: item.id, text: RIGHT[item.question]!, source: "correction" } satisfies Candidate],
      vote: async (item, candidates): Promise<VoteDecision> => ({
        itemId: item.id, accepted: true, winnerId: candidates[0]!.id, winnerScore: 1,
        ballots: [{ candidateId: candidates[0]!.id, voter: "stamp", score: 1, reason: "the reference answer" }], reason: "reference",
      }),
      canary: async ({ version }) => {
        canaried = version;
        return { outcome: "promoted", reason: "stand-in canary" };
      },
    };
    const improvement = new Improvement({ config, ports, metrics, logger: silentLogger });
    const summary = await improvement.runOnce();
    const suites = Object.fromEntries(summary.suites.map((s) => [s.suite, s]));
    console.log(`qwen2 Q8_0 night: loss ${summary.finalLoss}, ${summary.trainingSeconds.toFixed(1)} s; ${summary.outcome}: ${summary.reasons.join("; ")}; target ${JSON.stringify(suites.target)}`);

    expect(summary.harvested).toBe(3);
    expect(summary.accepted).toBe(3);
    // Trained on this base: the run's adapter folder records it, the loss fell well below uniform (ln 2048 ≈ 7.6), and the
    // base file is untouched.
    expect(summary.finalLoss).not.toBeNull();
    expect(summary.finalLoss!).toBeLessThan(4);
    const training = readFileSync(join(improvement.runsDir, summary.runId, "adapter", "training.json"), "utf8");
    expect(training).toContain("qwen2-q8_0.gguf");
    expect(await sha256File(base)).toBe(baseHash);
    // Gated on the served quantized model: every suite ran the candidate on an adapter slot of that model.
    expect(Object.keys(suites).sort()).toEqual(expect.arrayContaining(["holdout", "regression", "safety", "target"]));
    expect(suites.target?.total).toBe(3);
    // What one such night gives today (measured, not asserted): a 64-wide, 2-layer random model does not learn the three
    // commands (target 0 of 3; loss 2.8 after 400 steps at lr 1e-3, 4.9 after 1,200, diverged at 5e-3), so the gate
    // stops it and nothing is published — the same rule as for any base.
    if (summary.outcome === "promoted") {
      expect(canaried).toBe(summary.version);
      expect(await registry.current()).toBe(summary.version);
    } else {
      expect(summary.outcome).toBe("gate-failed");
      expect(await registry.current()).toBeNull();
    }
  },
  900_000,
);
