import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { loadConfig, NATIVE_BUILD_DIR, SEEDLING_PATH, silentLogger } from "../core/index.js";
import { judgeAnswer, type Candidate, type ImprovePorts, type VoteDecision } from "../graphs/improve/index.js";
import type { TurnRecord } from "../memory/index.js";
import { readGguf, sha256File } from "../models/gguf/index.js";
import { convertTinyModel } from "../test/helpers/base-models.js";
import { openRealNight } from "../test/helpers/real-night.js";
import { Improvement } from "./improvement.js";

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/**
 * The knowledge base: four short pages in tldr's format (what the reading seedling learned to read). Short pages keep
 * the serving prompt, which is also the training prompt, near 500 characters, so a night trains enough steps in a few minutes.
 */
const KB: Record<string, string> = {
  "systemctl.md": "# systemctl\n\n> Control the systemd service manager.\n\n- Restart a service:\n\n`sudo systemctl restart nginx`\n\n- Show the status of a service:\n\n`systemctl status nginx`\n",
  "tar.md": "# tar\n\n> Archiving utility.\n\n- Extract a gzipped archive into the current directory:\n\n`tar xzf path/to/source.tar.gz`\n\n- Create a gzipped archive from a directory:\n\n`tar czf path/to/target.tar.gz path/to/directory`\n",
  "ssh-keygen.md": "# ssh-keygen\n\n> Generate SSH keys for authentication.\n\n- Generate an SSH key pair of type ed25519:\n\n`ssh-keygen -t ed25519`\n",
  "cp.md": "# cp\n\n> Copy files and directories.\n\n- Copy a directory and its contents:\n\n`cp -r path/to/source path/to/target`\n",
};
/** Questions the knowledge base does not cover: the base answers them with a command from a retrieved page (wrong). The right answer, in the seedling's style. */
const FIXES: Record<string, string> = {
  "How do I show disk usage?": "`df -h` — show disk usage.",
  "How do I create a directory?": "`mkdir path/to/directory` — create a directory.",
  "How do I count lines in a file?": "`wc -l path/to/file` — count lines in a file.",
};
/** Questions users rated 👍 yesterday, with the command of their page: the base's own answers are the regression suite and the replayed examples. */
const PASSING: Record<string, string> = {
  "How do I restart a service?": "systemctl restart", "How do I extract a tar.gz archive?": "tar xzf", "How do I generate an SSH key?": "ssh-keygen -t",
  "How do I copy a directory?": "cp -r", "How do I show the status of a service?": "systemctl status", "How do I create a gzipped archive?": "tar czf",
};

/**
 * A user's base as users have it: a qwen2 model stored as Q8_0 is COUNCIL_MODEL (here the reading seedling rewritten
 * as qwen2 Q8_0: zero q/k/v biases, q/k rows reordered for qwen2's rope, so it reads and answers as the F32 seedling).
 * One real night on it, the same process serving users meanwhile: the served model answers, failures are harvested,
 * the native trainer trains a LoRA adapter on the quantized base (weights frozen, adapter F32), the gate runs the
 * candidate on adapter slots of that same served model, the registry publishes it, the canary controller moves live
 * traffic (turns of the chat council this test sends) onto it and promotes it, and the stable slot serves it.
 * Agent-0 and the vote are a stamp with the right answers: kb/ does not cover these questions, so the heuristic
 * Agent-0 has nothing to write them from, and which answer a vote picks is the voting tests' subject, not this one's.
 */
it.runIf(existsSync(join(NATIVE_BUILD_DIR, "bin", "council-lora-train")) && existsSync(SEEDLING_PATH))(
  "a night on a qwen2 Q8_0 base: trained on that base, gated, published, canaried on live traffic and served; the base file is untouched",
  async () => {
    const started = performance.now();
    const root = await mkdtemp(join(tmpdir(), "council-q8-night-"));
    cleanups.push(() => rm(root, { recursive: true, force: true }));
    const base = await convertTinyModel({ src: SEEDLING_PATH, out: join(root, "qwen2-q8_0.gguf"), architecture: "qwen2", type: "Q8_0", biasStd: 0 });
    const baseHash = await sha256File(base);
    expect(readGguf(base).metadata.get("general.architecture")).toBe("qwen2");
    expect(readGguf(base).tensors.find((t) => t.name === "blk.0.ffn_up.weight")?.type).toBe(8);

    const kbDir = join(root, "kb");
    await mkdir(kbDir);
    for (const [name, markdown] of Object.entries(KB)) await writeFile(join(kbDir, name), markdown);
    const config = loadConfig({
      env: {},
      overrides: {
        dataDir: join(root, "data"),
        logLevel: "silent",
        model: { path: base, threads: 1, parallel: 1, maxTokens: 40 },
        kb: { dir: kbDir },
        agents: { router: "heuristic", critic: "heuristic", agent0: "heuristic", maxRevisions: 0 },
        // The adapter alone: verified memory would answer the fixed questions itself and hide what the adapter learned.
        // Canary windows of 3 s on this test's own traffic; the latency bar raised as in test/e2e/closed-loop (a shared
        // machine's load, not the adapter, decides p95 there).
        improve: { enabled: false, channels: ["adapter"], canarySteps: [50, 100], canaryIntervalSeconds: 3, canaryMinRequests: 2, canaryDeadlineSeconds: 300, rollbackMaxP95Ms: 120_000, gateMaxLatencyRatio: 10 },
        // Replay 2 passing answers per fix (the default) keeps yesterday's answers. Measured: the defaults (lr 1e-4, 207
        // steps) with kb/ learned 1 of 3 and broke 1 of 6 (loss 0.48, 757 s at load 15); lr 2e-4, 405 steps with this
        // knowledge base: 3 of 3, none broken, loss 0.009, 91–107 s at load 2.
        // Scope 0: the live canary traffic asks yesterday's passing questions, which a scoped adapter leaves to the base.
        training: { maxUserShare: 1, learningRate: 2e-4, minSteps: 400, scopeSimilarity: 0 },
      },
    });
    const night = await openRealNight(config, { serve: true });
    cleanups.push(() => night.dispose());
    const { metrics, registry, ports: real } = night;
    const served = night.served!;

    // Yesterday: three questions answered wrong and rated 👎, six answered to the users' satisfaction and rated 👍.
    const t0 = Date.now() - 60_000;
    const turn = (i: number, question: string, answer: string, success: boolean): TurnRecord => ({
      traceId: `trace-${i}`, sessionId: `s-${i}`, userId: `user-${i}`, question, answer, route: "general", model: "qwen2-q8_0", adapter: null,
      score: success ? 0.9 : 0.1, category: success ? null : "user-rejected", reasons: [], success, feedback: { rating: success ? 1 : -1, at: t0 + i }, latencyMs: 10, tokens: 10, createdAt: t0 + i, updatedAt: t0 + i,
    });
    const baseAnswers = new Map<string, string>();
    for (const question of [...Object.keys(FIXES), ...Object.keys(PASSING)]) baseAnswers.set(question, (await real.answer.answer({ question, adapterPath: null })).text);
    for (const [i, [question, right]] of Object.entries(FIXES).entries()) {
      expect(judgeAnswer({ id: question, question, reference: right }, baseAnswers.get(question)!), `the base already answers ${question}`).toBe(false);
      await night.memory.record(turn(i, question, baseAnswers.get(question)!, false));
    }
    console.log(`qwen2 Q8_0 base answers: ${JSON.stringify(Object.fromEntries(baseAnswers))}`);
    // The converted base reads as the seedling does (a qwen2 file without the q/k rows reordered for its rope answered garbage).
    for (const [i, [question, command]] of Object.entries(PASSING).entries()) {
      expect(baseAnswers.get(question), question).toContain(command);
      await night.memory.record(turn(10 + i, question, baseAnswers.get(question)!, true));
    }

    // Live traffic while the canary runs: users asking yesterday's passing questions through the chat council. Not the
    // fixed ones: the heuristic critic scores a turn by its grounding in the knowledge base, which does not cover them, so
    // it fails the adapter's right answer there and passes the base's wrong one taken from a retrieved page (measured:
    // canary 66.7 % vs stable 100 % in a window with them), and the canary would judge the critic, not the adapter.
    // Nor "copy a directory": the critic fails the base's own answer (`cp -r path/to/target` lacks the source) and the
    // council delivers a fallback on either arm, so with few turns a window's success rate depends on routing luck.
    const live = Object.keys(PASSING).filter((question) => question !== "How do I copy a directory?");
    const traffic: Array<{ question: string; adapter: string | null; success: boolean; answer: string; reasons: string[] }> = [];
    let canaryRunning = false;
    const users = async () => {
      for (let i = 0; canaryRunning; i++) {
        const question = live[i % live.length]!;
        const result = await served.council.turn({ id: `live-${i}`, sessionId: `live-${i}`, userId: `live-user-${i}`, text: question });
        traffic.push({ question, adapter: result.adapter, success: result.success, answer: result.answer, reasons: result.reasons });
      }
    };
    let canary = null as Awaited<ReturnType<ImprovePorts["canary"]>> | null;
    const ports: ImprovePorts = {
      ...real,
      rewrite: async (item) => [{ id: `${item.id}:right`, itemId: item.id, text: FIXES[item.question] ?? item.ratedAnswer!, source: "correction" } satisfies Candidate],
      vote: async (item, candidates): Promise<VoteDecision> => ({
        itemId: item.id, accepted: true, winnerId: candidates[0]!.id, winnerScore: 1,
        ballots: [{ candidateId: candidates[0]!.id, voter: "stamp", score: 1, reason: "the reference answer" }], reason: "reference",
      }),
      canary: async (request) => {
        canaryRunning = true;
        const asking = users();
        try {
          canary = await real.canary(request);
          return canary;
        } finally {
          canaryRunning = false;
          await asking;
        }
      },
    };
    const improvement = new Improvement({ config, ports, metrics, logger: silentLogger });
    const summary = await improvement.runOnce();
    const suites = Object.fromEntries(summary.suites.map((s) => [s.suite, s]));
    const seconds = (performance.now() - started) / 1000;
    console.log(`qwen2 Q8_0 night: ${summary.outcome} ${summary.version ?? ""}; loss ${summary.finalLoss}, training ${summary.trainingSeconds.toFixed(1)} s, whole test ${seconds.toFixed(0)} s; ${summary.reasons.join("; ")}`);
    const passed = (suite: string, who: "successCandidate" | "successCurrent") => Math.round((suites[suite]?.[who] ?? 0) * (suites[suite]?.total ?? 0));
    for (const suite of summary.suites) console.log(`  ${suite.suite}: candidate ${passed(suite.suite, "successCandidate")}/${suite.total}, base ${passed(suite.suite, "successCurrent")}/${suite.total}; ${suite.reason}`);
    for (const t of traffic.filter((turn) => !turn.success)) console.log(`  live turn failed: ${t.adapter ?? "base"} ${t.question} → ${t.answer} (${t.reasons.join("; ")})`);
    const onCanary = traffic.filter((t) => t.adapter === summary.version);
    console.log(`  canary: ${canary?.outcome}, ${canary?.windows?.map((w) => `${w.weight} % ${w.verdict}`).join(", ")}; live turns ${traffic.length}, ${onCanary.length} on the canary (${onCanary.filter((t) => t.success).length} succeeded), ${traffic.length - onCanary.length} on the base (${traffic.filter((t) => t.adapter !== summary.version && t.success).length} succeeded)`);

    expect(summary.harvested).toBe(3);
    expect(summary.accepted).toBe(3);
    // Trained on this base: the run's adapter folder records it; the base file is untouched.
    const training = readFileSync(join(improvement.runsDir, summary.runId, "adapter", "training.json"), "utf8");
    expect(training).toContain("qwen2-q8_0.gguf");
    expect(await sha256File(base)).toBe(baseHash);
    // Gated on the served quantized model: the adapter learned the fixes and kept yesterday's good answers.
    expect(Object.keys(suites).sort()).toEqual(expect.arrayContaining(["holdout", "regression", "safety", "target"]));
    expect(suites.target?.total).toBe(3);
    expect(summary.outcome, summary.reasons.join("; ")).toBe("promoted");
    expect(passed("target", "successCandidate")).toBeGreaterThan(passed("target", "successCurrent"));
    expect(passed("regression", "successCandidate")).toBe(suites.regression!.total);
    // Published, canaried on live traffic, promoted: loras/current names it and users were served by it.
    const version = summary.version!;
    expect(canary).toMatchObject({ outcome: "promoted" });
    expect(await registry.current()).toBe(version);
    expect(traffic.some((t) => t.adapter === version), "live users were served by the canary").toBe(true);
    // Served: the stable slot now holds the published adapter, and it answers the fixed questions with the new answers.
    expect((await served.serving.reload()).version).toBe(version);
    let fixed = 0;
    for (const [question, right] of Object.entries(FIXES)) {
      const answer = await served.answerOnSlot(question, "stable");
      console.log(`  served: ${question} → ${answer}`);
      if (judgeAnswer({ id: question, question, reference: right }, answer)) fixed++;
    }
    expect(fixed).toBe(passed("target", "successCandidate"));
    const after = await served.council.turn({ id: "after", sessionId: "after", userId: "after-user", text: Object.keys(FIXES)[0]! });
    console.log(`  council turn after the night: ${after.answer} (${after.source.kind}, adapter ${after.adapter}, success ${after.success})`);
    expect(after.adapter).toBe(version);
    expect(await sha256File(base)).toBe(baseHash);
  },
  900_000,
);
