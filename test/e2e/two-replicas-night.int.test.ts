import { readFileSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildTldrBench } from "../../bench/improve/index.js";
import { compileAccept, judgeAnswer } from "../../bench/improve/items.js";
import { rephraseQuestion } from "../../bench/improve/tldr.js";
import { SEEDLING_PATH } from "../../core/index.js";
import { readRunProgress, type RunSummary } from "../../council/index.js";
import type { ServerFrame } from "../../server/index.js";
import { ChatClient } from "../helpers/chat-server.js";
import { startReplica, type Replica } from "../helpers/council-replica.js";
import { runCli, spawnCli } from "../helpers/run-cli.js";
import { havePostgres, startPostgres, type PostgresServer } from "../helpers/postgres.js";
import { NIGHT_PAGES } from "../helpers/night-pages.js";

type FinalFrame = Extract<ServerFrame, { type: "final" }>;

const ADMIN = "two-replicas-night-admin";
/** Chat tokens. Canary buckets are sticky by user (sha256 of the user id): carol 57 and dave 95 stay on stable at the 50 % step, heidi 11 and judy 2 go to the canary. */
const USERS = ["alice", "bob", "carol", "dave", "heidi", "judy"].map((name) => `${name}-chat-token-0123456789`);

type Rating = { rating: 1 | -1; correction?: string };

/** One chat turn as user `token` over the replica's WebSocket; `rate` picks 👍/👎 (with a correction) for the answer, sent on the same connection. */
async function ask(replica: Replica, token: string, text: string, rate?: (final: FinalFrame) => Rating): Promise<FinalFrame> {
  const client = await ChatClient.connect(replica.wsUrl, { headers: { authorization: `Bearer ${token}` } });
  try {
    const id = `q-${Math.random().toString(36).slice(2, 10)}`;
    client.send({ type: "chat", id, session_id: `${token.slice(0, 5)}-${id}`, text });
    const end = await client.next((frame) => (frame.type === "final" || frame.type === "error") && frame.id === id, 300_000);
    if (end.type !== "final") throw new Error(`replica ${replica.name} answered ${JSON.stringify(end)}`);
    const rating = rate?.(end);
    if (rating) {
      client.send({ type: "feedback", trace_id: end.trace_id, rating: rating.rating, ...(rating.correction ? { correction: rating.correction } : {}) });
      expect(await client.next((frame) => frame.type === "feedback-ack" || frame.type === "error", 60_000)).toEqual({ type: "feedback-ack", trace_id: end.trace_id });
    }
    return end;
  } finally {
    await client.close();
  }
}

/** Asks until the replica answers with adapter `version` (it follows the Postgres release record), at most `ms`. */
async function askUntilServedBy(replica: Replica, token: string, text: string, version: string | null, ms = 120_000): Promise<FinalFrame> {
  const deadline = Date.now() + ms;
  for (;;) {
    const final = await ask(replica, token, text);
    if (final.adapter === version || Date.now() > deadline) return final;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/**
 * A real night across two replicas on one Postgres 15 (Debian's, started here). Both replicas are `council serve` on
 * the committed reading seedling with the in-process llama backend (not a shared llama-server: that path is
 * council/shared-llama-server.int.test.ts); each has its own data dir, and adapter version folders travel between
 * them through Postgres (deploy/postgres-adapter-files.ts) with the release record (deploy/postgres-release-store.ts).
 *
 * Day 1: users on both replicas ask tldr-style questions about tar and grep over a knowledge base of two pages
 * written here (the seedling copies a command right when the question words match its description) and rate them
 * 👍; one question asked in two other wordings, one on each replica, makes the seedling copy the wrong command
 * (`tar xvf`, unpack here, for "unpack into another folder"): the critic fails that draft, and the user sends 👎 with
 * the right command as the correction. Night: `council nightly --once` through replica a's admin API (what an operator
 * runs on a); replica b's `nightly --once` meanwhile says "locked" (the Postgres advisory lock). The night harvests
 * both replicas' turns from Postgres, votes (the correction is the knowledge base's command for that task), trains a
 * LoRA adapter with the native trainer, and must pass the gate as configured by default (target +3 points, every
 * regression case still passing, safety) — only the latency bar is raised, as in test/e2e/closed-loop.int.test.ts,
 * because a shared 2-core machine swings p95 more than the adapter does. The canary runs on live traffic to both
 * replicas and the night promotes. Both replicas then answer the fixed question themselves with the new adapter
 * (final frame `adapter`). Not tested here: `council rollback` after this first promotion (no previous version: it
 * refuses with ADAPTER_NOT_FOUND; a rollback reaching both replicas is council/shared-adapter-files.int.test.ts and
 * council/shared-llama-server.int.test.ts).
 *
 * Night settings (env of replica a, the night's process): verified memory off (`COUNCIL_IMPROVE_CHANNELS=adapter`,
 * so only the adapter can change the answer); learning rate at its default (1e-4); every 👍 answer replayed
 * (`COUNCIL_TRAIN_REPLAY_RATIO=8`: 2 fixes × 8 ≥ the 15 passing answers) and at least 300 steps
 * (`COUNCIL_TRAIN_MIN_STEPS=300`: 16 examples × 19 epochs); canary 50 → 100 % in 3-second windows of at least one
 * request. Measured on the shared 2-core machine, same questions: at the defaults (replay 2, 200 steps) the adapter
 * learned both fixes but broke 4 of 12 passing answers (`grep "pattern"` → `grep -i`, `tar czf` → `tar cf`, …) and
 * the gate stopped it; replay 3 / 100 steps broke 3; replay 6 broke the not-replayed neighbour or answered the fix
 * `tar xvf … -C …` (a mix of the two). The fixture writes "another directory" as `tar -C dir -xf archive` so the fix
 * and its neighbour (`tar xvf`) differ at their first option: with `tar xf archive -C dir` the adapter mixed them,
 * which the gate's judge (the reference's first two words) rightly fails. Replay 8 / 200 steps still broke one
 * neighbour wording; replay 8 / 300 steps passed.
 */
describe.skipIf(!havePostgres)("one real night across two replicas sharing Postgres", () => {
  let server: PostgresServer;
  let root: string;
  let env: Record<string, string>;
  const replicas: Replica[] = [];

  beforeAll(async () => {
    server = await startPostgres();
    const databaseUrl = await server.createDatabase("council_night");
    root = await mkdtemp(join(tmpdir(), "council-night-"));
    const kbDir = join(root, "kb");
    await mkdir(kbDir);
    for (const [page, markdown] of Object.entries(NIGHT_PAGES)) await writeFile(join(kbDir, `${page}.md`), markdown);
    env = {
      COUNCIL_MODEL: SEEDLING_PATH,
      COUNCIL_STORE: "postgres",
      COUNCIL_DATABASE_URL: databaseUrl,
      COUNCIL_KB_DIR: kbDir,
      // Embeddings-only retrieval: with the default hybrid ranker the seedling already answers tonight's question right
      // (it finds the "another directory" passage), and the night needs a failure to fix.
      COUNCIL_KB_RANKER: "cosine",
      COUNCIL_THREADS: "1",
      COUNCIL_PARALLEL: "1",
      COUNCIL_MAX_TOKENS: "40",
      COUNCIL_ROUTER_MODE: "heuristic",
      COUNCIL_CRITIC_MODE: "heuristic",
      COUNCIL_AGENT0_MODE: "heuristic",
      COUNCIL_MAX_REVISIONS: "0",
      COUNCIL_LOG_LEVEL: "warn",
      COUNCIL_CHAT_TOKENS: USERS.join(","),
      COUNCIL_ADMIN_TOKEN: ADMIN,
      COUNCIL_IMPROVE_ENABLED: "false",
      COUNCIL_IMPROVE_CHANNELS: "adapter",
      COUNCIL_CANARY_STEPS: "50,100",
      COUNCIL_CANARY_INTERVAL_S: "3",
      COUNCIL_CANARY_MIN_REQUESTS: "1",
      COUNCIL_CANARY_DEADLINE_S: "600",
      COUNCIL_ROLLBACK_MAX_P95_MS: "120000",
      COUNCIL_GATE_MAX_LATENCY_RATIO: "10",
      COUNCIL_DATASET_MAX_USER_SHARE: "1",
      COUNCIL_TRAIN_REPLAY_RATIO: "8",
      COUNCIL_TRAIN_MIN_STEPS: "300",
      // ⌈300 / 16⌉ = 19 epochs, as measured (the default 20 broke one regression case in a CI dry run: gate-failed).
      COUNCIL_TRAIN_EPOCHS: "8",
      // Every canary turn on the adapter (this test is about two replicas following one release record; the adapter's
      // scope is covered by council/adapter-serving.test.ts and the closed loop).
      COUNCIL_ADAPTER_SCOPE_SIMILARITY: "0",
    };
    replicas.push(await startReplica("a", { ...env, COUNCIL_DATA_DIR: join(root, "a") }));
    replicas.push(await startReplica("b", { ...env, COUNCIL_DATA_DIR: join(root, "b") }));
  }, 300_000);

  afterAll(async () => {
    for (const replica of replicas) if (replica.child.exitCode === null) replica.child.kill("SIGKILL");
    await server?.stop();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("the night's adapter passes the gate and the canary, both replicas answer with it, and a forced rollback reaches both", async () => {
    const [a, b] = replicas as [Replica, Replica];
    const [alice, bob] = USERS as [string, string];
    const bench = buildTldrBench({ root: join(root, "kb"), pages: ["tar", "grep"] });
    const fixItem = bench.eval.find((item) => item.id === "tldr-eval-tar-3")!;
    const accept = compileAccept(fixItem);
    const correction = `\`${fixItem.answer}\` — unpack an archive file into another directory.`;
    const wordings = ["What tar command would unpack an archive file into another folder?", "With tar, how can I unpack an archive file into another folder?"];

    // Day 1: tar questions on a, grep questions on b, each rated 👍 when right by the bench's accept regex.
    for (const item of bench.traffic) {
      const replica = item.page === "tar" ? a : b;
      const judged = (final: FinalFrame): Rating => ({ rating: judgeAnswer({ answer: final.answer, accept: compileAccept(item) }) && final.success ? 1 : -1 });
      const final = await ask(replica, replica === a ? alice : bob, item.question, judged);
      expect(judged(final).rating, `${item.question} → ${final.answer}`).toBe(1);
    }
    // The task next to tonight's fix ("unpack into the current directory", `tar xvf`) in the eval wordings too, on a:
    // the adapter must keep it apart from the fix, and the gate checks all three.
    const neighbour = bench.traffic.find((item) => item.id === "tldr-tar-2")!;
    for (const index of [0, 1, 2]) {
      const question = rephraseQuestion({ description: "Unpack an archive file into the current directory, naming each file", name: "tar", index });
      const judged = (final: FinalFrame): Rating => ({ rating: judgeAnswer({ answer: final.answer, accept: compileAccept(neighbour) }) && final.success ? 1 : -1 });
      const final = await ask(a, alice, question, judged);
      expect(judged(final).rating, `${question} → ${final.answer}`).toBe(1);
    }
    const before: FinalFrame[] = [];
    for (const [index, replica] of [a, b].entries()) {
      const final = await ask(replica, index === 0 ? alice : bob, wordings[index]!, () => ({ rating: -1, correction }));
      expect(final.success, `the seedling's draft for "${wordings[index]}" should fail the critic: ${final.answer}`).toBe(false);
      expect(final.adapter).toBeNull();
      before.push(final);
    }

    // Night: through a's admin API; b's attempt while a's night holds the lock says "locked".
    const started = Date.now();
    const nightly = spawnCli(["nightly", "--once", "--json"], { ...env, COUNCIL_DATA_DIR: join(root, "a") });
    let stdout = "";
    let stderr = "";
    nightly.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    nightly.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    let code: number | null | undefined;
    const ended = new Promise<void>((resolve) => nightly.on("close", (exit) => resolve(void (code = exit))));
    const runsOfA = join(root, "a", "data", "runs");
    while (readRunProgress(runsOfA) === undefined && code === undefined) await new Promise((resolve) => setTimeout(resolve, 500));
    const second = await runCli(["nightly", "--once"], { ...env, COUNCIL_DATA_DIR: join(root, "b") });
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toMatch(/^locked: /m);

    // Live users on both replicas once the canary runs (none before: training gets the cores).
    const served: Array<{ replica: string; adapter: string | null }> = [];
    for (let turn = 0; code === undefined; turn++) {
      if (readRunProgress(runsOfA)?.stage !== "canary") {
        await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 1000))]);
        continue;
      }
      const item = bench.traffic[turn % bench.traffic.length]!;
      const replica = turn % 2 === 0 ? a : b;
      served.push({ replica: replica.name, adapter: (await ask(replica, USERS[2 + (Math.floor(turn / 2) % 4)]!, item.question)).adapter });
    }
    await ended;
    expect(code, stderr).toBe(0);
    const summary = JSON.parse(stdout) as RunSummary;
    console.log(
      `two-replica night: ${summary.outcome} ${summary.version ?? ""} in ${((Date.now() - started) / 1000).toFixed(0)} s; harvested ${summary.harvested}, accepted ${summary.accepted}, ` +
        `${summary.datasetExamples} example(s), training ${summary.trainingSeconds.toFixed(0)} s, final loss ${summary.finalLoss?.toFixed(3)}; ` +
        summary.suites.map((suite) => `${suite.suite} ${Math.round(suite.successCandidate * suite.total)}/${suite.total} (current ${Math.round(suite.successCurrent * suite.total)})`).join(", ") +
        `; canary turns ${served.length} (${served.filter((turn) => turn.adapter !== null).length} on the adapter); ${summary.reasons.join("; ")}`,
    );
    const gate = JSON.parse(readFileSync(join(runsOfA, summary.runId, "gate.json"), "utf8")) as { suites: Array<{ suite: string; failures: Array<{ question: string; answer: string }> }> };
    for (const suite of gate.suites) for (const failure of suite.failures) console.log(`  gate ${suite.suite} failure: ${failure.question} → ${failure.answer}`);
    expect(summary.outcome, summary.reasons.join("; ")).toBe("promoted");
    const version = summary.version!;
    for (const name of ["a", "b"]) expect(served.filter((turn) => turn.replica === name && turn.adapter === version).length, `live users on ${name} were served by the canary`).toBeGreaterThan(0);

    // Both replicas answer the fixed question themselves, with the promoted adapter; the answer changed.
    for (const [index, replica] of [a, b].entries()) {
      const final = await askUntilServedBy(replica, index === 0 ? alice : bob, wordings[index]!, version);
      expect(final.adapter, `replica ${replica.name}`).toBe(version);
      expect(final.source.kind).toBe("model");
      expect(final.success && judgeAnswer({ answer: final.answer, accept }), final.answer).toBe(true);
      expect(final.answer).not.toBe(before[index]!.answer);
    }

    // A forced rollback from another process (an operator on replica b's host): after this first promotion there is no
    // previous version, so `council rollback` alone refuses and `--to base` takes the adapter out; both replicas follow
    // the record and answer without the adapter again (the seedling's draft fails the critic again, as on day 1).
    const refused = await runCli(["rollback"], { ...env, COUNCIL_DATA_DIR: join(root, "b") });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--to base/);
    const rolledBack = Date.now();
    const rollback = await runCli(["rollback", "--to", "base", "--reason", "forced by the e2e test", "--json"], { ...env, COUNCIL_DATA_DIR: join(root, "b") });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout)).toMatchObject({ removed: version, restored: null });
    for (const [index, replica] of [a, b].entries()) {
      const final = await askUntilServedBy(replica, index === 0 ? alice : bob, wordings[index]!, null, 30_000);
      expect(final.adapter, `replica ${replica.name} after the rollback`).toBeNull();
      expect(final.success, `the base model's draft fails the critic again: ${final.answer}`).toBe(false);
    }
    console.log(`forced rollback to the base model: both replicas without the adapter ${((Date.now() - rolledBack) / 1000).toFixed(1)} s after \`council rollback --to base\` started`);
  }, 1_800_000);
});
