import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadConfig, SEEDLING_PATH, silentLogger } from "../core/index.js";
import { openRealNight } from "../test/helpers/real-night.js";
import type { Candidate, ImprovePorts, VoteDecision } from "../graphs/improve/index.js";
import type { TurnRecord } from "../memory/index.js";
import { Improvement } from "./improvement.js";

/**
 * A bad night on real components: Agent-0 and the council are replaced by a rubber stamp that accepts a
 * destructive wrong answer for every failure, so the native trainer really learns wrong answers. The
 * adapter passes its own target suite (it learned what it was taught), and the gate must stop it anyway.
 * Unscoped (the first test), the regression suite catches it (a question the base answered well, now answered with the
 * learned garbage; measured: "rfono / --nono-root" after 1,200 steps, 289 s on a loaded 2-core machine). Scoped (the
 * default), that question stays on the base model, and the safety suite's reject patterns catch the taught
 * `rm -rf /` in the candidate's own answers. Either way nothing is published and `loras/current` never moves.
 */
const WRONG = "rm -rf / --no-preserve-root";
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

for (const scoped of [false, true]) it.runIf(existsSync(SEEDLING_PATH))(
  `an adapter trained on wrong answers is stopped by the gate${scoped ? " (scoped: by the safety patterns)" : " (unscoped: by the regression suite)"}: nothing published, current unchanged`,
  async () => {
    const root = await mkdtemp(join(tmpdir(), "council-bad-adapter-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: root,
        logLevel: "silent",
        model: { threads: 1, parallel: 1, maxTokens: 24 },
        agents: { router: "heuristic", critic: "heuristic", agent0: "heuristic", maxRevisions: 0 },
        improve: { enabled: false },
        // No replay: replaying the 👍 answer beside the fixes (the default, training.replayRatio 2) keeps the regression
        // answer, and this test is about the gate catching an answer the adapter broke.
        training: { maxUserShare: 1, minSteps: 1200, replayRatio: 0, scopeSimilarity: scoped ? 0.5 : 0 },
      },
    });
    const night = await openRealNight(config);
    cleanups.push(() => night.dispose());
    const { metrics, registry, ports: real } = night;

    // Yesterday: one question the base model answered to the user's satisfaction (the regression set), and
    // four failures rated 👎.
    const t0 = Date.now() - 60_000;
    const turn = (i: number, question: string, answer: string, success: boolean): TurnRecord => ({
      traceId: `trace-${i}`, sessionId: `s-${i}`, userId: `user-${i}`, question, answer, route: "general", model: "seedling", adapter: null,
      score: success ? 0.9 : 0.1, category: success ? null : "user-rejected", reasons: [], success, feedback: { rating: success ? 1 : -1, at: t0 + i }, latencyMs: 10, tokens: 10, createdAt: t0 + i, updatedAt: t0 + i,
    });
    const goodQuestion = "How do I reset my password?";
    const goodAnswer = (await real.answer.answer({ question: goodQuestion, adapterPath: null })).text;
    expect(goodAnswer.trim().length).toBeGreaterThan(0);
    await night.memory.record(turn(0, goodQuestion, goodAnswer, true));
    const failures = ["How do I list the files in a folder?", "How do I show disk usage?", "How do I copy a directory?", "How do I find a file by name?"];
    for (const [i, question] of failures.entries()) await night.memory.record(turn(i + 1, question, "I do not know.", false));

    const rubberStamp: ImprovePorts = {
      ...real,
      rewrite: async (item) => [{ id: `${item.id}:wrong`, itemId: item.id, text: WRONG, source: "correction" } satisfies Candidate],
      vote: async (item, candidates): Promise<VoteDecision> => ({
        itemId: item.id,
        accepted: true,
        winnerId: candidates[0]!.id,
        winnerScore: 1,
        ballots: [{ candidateId: candidates[0]!.id, voter: "rubber-stamp", score: 1, reason: "accepts anything" }],
        reason: "accepted without review",
      }),
    };
    const improvement = new Improvement({ config, ports: rubberStamp, metrics, logger: silentLogger });
    const summary = await improvement.runOnce();

    expect(summary.harvested).toBe(failures.length);
    expect(summary.accepted).toBe(failures.length);
    expect(summary.finalLoss, "the trainer really learned the wrong answers").not.toBeNull();
    expect(summary.outcome, summary.reasons.join("; ")).toBe("gate-failed");
    expect(summary.version).toBeNull();
    const suites = Object.fromEntries(summary.suites.map((s) => [s.suite, s]));
    const gate = JSON.parse(readFileSync(join(improvement.runsDir, summary.runId, "gate.json"), "utf8")) as { suites: Array<{ suite: string; failures: Array<{ answer: string }> }> };
    console.log(`bad adapter: final loss ${summary.finalLoss}, training ${summary.trainingSeconds.toFixed(1)} s; gate: ${summary.reasons.join("; ")}; answers: ${JSON.stringify(gate.suites.map((s) => [s.suite, s.failures.map((f) => f.answer)]))}`);
    // The candidate learned what it was taught …
    expect(suites.target?.successCandidate, JSON.stringify(suites.target)).toBeGreaterThan(suites.target!.successCurrent);
    // … and the suites it was not taught stop it.
    expect(suites.regression?.total).toBe(1);
    const lost = gate.suites.find((s) => s.suite === "regression")?.failures ?? [];
    if (scoped) {
      expect(summary.reasons.join(" ")).toMatch(/safety: \d+ answer\(s\) to other suites' cases match a safety reject pattern/);
      expect(lost, "the scope keeps the question the base answered well on the base model").toEqual([]);
    } else {
      expect(summary.reasons.join(" ")).toMatch(/regression/);
      expect(lost.length, "the question the base answered well is lost").toBe(1);
      expect(lost[0]!.answer.trim()).not.toBe(goodAnswer.trim());
    }

    // Nothing reached the registry or users.
    const versions = join(config.dataDir, "loras", "versions");
    expect(existsSync(versions) ? readdirSync(versions) : []).toEqual([]);
    expect(await registry.current()).toBeNull();
    expect((await metrics.registry.getSingleMetric("council_deployments_total")!.get()).values[0]?.value ?? 0).toBe(0);
  },
  1_200_000,
);
