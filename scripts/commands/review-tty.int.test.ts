import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, expect, it } from "vitest";
import { PROJECT_ROOT, SEEDLING_PATH } from "../../core/index.js";
import { ReviewQueue, type HarvestItem, type RunSummary, type VoteDecision } from "../../graphs/improve/index.js";
import { runCli } from "../../test/helpers/run-cli.js";

/**
 * `council review` as a person uses it: the interactive screen in a real terminal (a tmux pane: a pty, raw mode,
 * one key per decision, no Enter), then the next night (`council nightly --once`, a separate process on the same
 * data dir, the committed seedling, a one-epoch LoRA) must train on and verify what the reviewer accepted, under the
 * reviewer's name, and must not use what they rejected or did not decide.
 */
const execFileAsync = promisify(execFile);
const hasTmux = (() => {
  try {
    execFileSync("tmux", ["-V"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const QUESTIONS = { tar: "How do I extract a tar archive?", mount: "How do I mount a USB disk?", grep: "How do I search text in files?", df: "How do I see free disk space?" } as const;
type Key = keyof typeof QUESTIONS;
const KB_ANSWER: Record<Key, string> = { tar: "Use tar -xf archive.tar to extract it.", mount: "Use mount /dev/sdb1 /mnt to mount it.", grep: "Use grep to search.", df: "Use df -h to see free space." };
const LLM_ANSWER: Record<Key, string> = { tar: "Run tar xf archive.tar in the folder.", mount: "Run fdisk /dev/sdb.", grep: "Run find . -name text.", df: "Run du -sh /." };
const EDITED = "Run grep -rn 'text' . to search every file below the folder.";

const item = (key: Key): HarvestItem => ({ id: `q-${key}`, question: QUESTIONS[key], failedAnswer: "I do not know.", traceIds: [`t-${key}`], userId: "user-7", createdAt: 1_000, category: "ungrounded" });
const entry = (key: Key) => {
  const itemId = `q-${key}`;
  const decision: VoteDecision = { itemId, accepted: false, winnerId: `${itemId}-kb`, winnerScore: 0.6, reason: "below the accept bar", ballots: [{ candidateId: `${itemId}-kb`, voter: "grounding", score: 0.6, reason: "in the knowledge base" }] };
  return {
    item: item(key),
    candidates: [
      { id: `${itemId}-kb`, itemId, text: KB_ANSWER[key], source: "knowledge-base" as const },
      { id: `${itemId}-llm`, itemId, text: LLM_ANSWER[key], source: "llm" as const },
    ],
    decision,
  };
};

/** A detached tmux session on its own server socket, 120×40, running `command` in the project root. */
async function openTerminal({ command, env }: { command: string; env: Record<string, string> }) {
  const socket = `council-review-${process.pid}-${Date.now()}`;
  const base: NodeJS.ProcessEnv = { ...process.env, ...env };
  // The CLI must behave as for a user (VITEST silences it); TMUX would nest into an outer session.
  delete base.VITEST;
  delete base.TMUX;
  const tmux = (args: string[]) => execFileAsync("tmux", ["-L", socket, ...args], { env: base, cwd: PROJECT_ROOT });
  await tmux(["new-session", "-d", "-s", "review", "-x", "120", "-y", "40", "-c", PROJECT_ROOT, `${command}; echo "[council review exited $?]"; sleep 600`]);
  cleanups.push(async () => void (await tmux(["kill-server"]).catch(() => undefined)));
  /** The whole scrollback plus the screen, soft-wrapped lines joined. */
  const screen = async () => (await tmux(["capture-pane", "-p", "-J", "-S", "-", "-t", "review"])).stdout;
  return {
    screen,
    /** Types keys with no Enter (send-keys -l: literal characters, as a person types them). */
    type: async (text: string) => void (await tmux(["send-keys", "-t", "review", "-l", text])),
    enter: async () => void (await tmux(["send-keys", "-t", "review", "Enter"])),
    waitFor: async (text: string, timeoutMs = 60_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const shown = await screen();
        if (shown.includes(text)) return shown;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${JSON.stringify(text)}; it shows:\n${shown}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
  };
}

it.runIf(hasTmux && existsSync(SEEDLING_PATH))(
  "a reviewer works the queue in a terminal with single keys, and the next night trains on and verifies what they accepted, under their name",
  async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-review-tty-"));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const queue = new ReviewQueue({ path: join(dir, "data", "improve", "review-queue.jsonl") });
    const queued = await queue.enqueue({ runId: "run-20261205T020000-prev", entries: (["tar", "mount", "grep", "df"] as const).map(entry) });
    const env = { COUNCIL_DATA_DIR: dir, COUNCIL_LOG_LEVEL: "silent", EDITOR: "", VISUAL: "" };

    const terminal = await openTerminal({ command: `${JSON.stringify(process.execPath)} --import tsx scripts/cli.ts review --actor alice`, env });
    const first = await terminal.waitFor("q quit");
    expect(first).toContain(`review 1/4: ${queued[0]!.id}`);
    expect(first).toContain(`Question: ${QUESTIONS.tar}`);
    expect(first).toContain("[1] knowledge-base (council's best), mean 0.60");
    expect(first).toContain(`[2] llm, no ballots\n    ${LLM_ANSWER.tar}`);
    // One key, no Enter (raw mode): 2 accepts the second candidate shown.
    await terminal.type("2");
    await terminal.waitFor("review 2/4");
    await terminal.type("r");
    await terminal.waitFor("review 3/4");
    await terminal.type("e");
    await terminal.waitFor("Edited answer (one line, empty to cancel): ");
    await terminal.type(EDITED);
    await terminal.enter();
    await terminal.waitFor("review 4/4");
    await terminal.type("q");
    const last = await terminal.waitFor("[council review exited");
    expect(last).toContain(`Edited answer (one line, empty to cancel): ${EDITED}\naccepted`);
    expect(last).toContain("Reviewed: 2 accepted, 1 rejected, 0 skipped.");
    expect(last).toContain("[council review exited 0]");
    expect((await queue.items()).map((entry) => [entry.question, entry.status, entry.decision?.actor ?? null])).toEqual([
      [QUESTIONS.tar, "accepted", "alice"],
      [QUESTIONS.mount, "rejected", "alice"],
      [QUESTIONS.grep, "accepted", "alice"],
      [QUESTIONS.df, "pending", null],
    ]);

    // The next night, on the same data dir (no new failures: it has only the reviewed items to work on). `approve`
    // stops it after the gate, before any canary; one epoch keeps the LoRA cheap.
    const night = await runCli(["nightly", "--once", "--json"], {
      ...env,
      COUNCIL_IMPROVE_POLICY: "approve",
      COUNCIL_TRAIN_MIN_STEPS: "0",
      COUNCIL_TRAIN_EPOCHS: "1",
      COUNCIL_THREADS: "1",
      COUNCIL_MAX_TOKENS: "24",
    });
    expect(night.code, night.stderr).toBe(0);
    const summary = JSON.parse(night.stdout) as RunSummary;
    expect(["gate-failed", "awaiting-approval"], summary.reasons.join("; ")).toContain(summary.outcome);
    expect(summary).toMatchObject({ harvested: 2, accepted: 2, datasetExamples: 2 });
    const runDir = join(dir, "data", "runs", summary.runId);

    // Training data: exactly the reviewer's two answers (the chosen candidate, and the edit), nothing of the rejected or undecided ones.
    const sft = (await readFile(join(runDir, "dataset", "sft.messages.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { messages: Array<{ role: string; content: string }> });
    const pairs = sft.map((example) => [example.messages.findLast((m) => m.role === "user")!.content, example.messages.at(-1)!.content]).sort();
    expect(pairs).toEqual([
      [QUESTIONS.tar, LLM_ANSWER.tar],
      [QUESTIONS.grep, EDITED],
    ].sort());
    const everything = await readFile(join(runDir, "dataset", "sft.messages.jsonl"), "utf8");
    for (const absent of [QUESTIONS.mount, QUESTIONS.df, KB_ANSWER.tar]) expect(everything).not.toContain(absent);

    // The reviewer is a ballot of the night's vote and of the verified entries, and the actor of the decision events.
    const ballots = JSON.parse(await readFile(join(runDir, "ballots.json"), "utf8")) as VoteDecision[];
    expect(ballots.map((decision) => [decision.accepted, decision.ballots.at(-1)?.voter, decision.reason])).toEqual([
      [true, "reviewer:alice", "accepted by alice in review"],
      [true, "reviewer:alice", "accepted by alice in review, with an edited answer"],
    ]);
    const memoryGate = JSON.parse(await readFile(join(runDir, "memory-gate.json"), "utf8")) as { kept: Array<{ question: string; answer: string; ballots: Array<{ voter: string }> }> };
    expect(memoryGate.kept.map((kept) => [kept.question, kept.answer, kept.ballots.map((ballot) => ballot.voter)])).toEqual([
      [QUESTIONS.tar, LLM_ANSWER.tar, ["reviewer:alice"]],
      [QUESTIONS.grep, EDITED, ["reviewer:alice"]],
    ]);
    const segments = (await readdir(join(dir, "events"))).filter((name) => name.endsWith(".jsonl")).sort();
    const logged = (await Promise.all(segments.map((name) => readFile(join(dir, "events", name), "utf8")))).join("");
    const events = logged.trim().split("\n").map((line) => JSON.parse(line) as { actor: string; type: string; payload: { choice?: string; runId?: string; examples?: unknown[] } });
    expect(events.filter((event) => event.type === "review-decided").map((event) => [event.actor, event.payload.choice])).toEqual([
      ["alice", "accept"],
      ["alice", "reject"],
      ["alice", "accept"],
    ]);
    expect(events.find((event) => event.type === "dataset-built")).toMatchObject({ actor: "nightly", payload: { runId: summary.runId, examples: expect.any(Array) } });

    // Used once: the queue marks them consumed by this night; the undecided one still waits.
    expect((await queue.items()).map((entry) => [entry.status, entry.consumedBy])).toEqual([
      ["accepted", summary.runId],
      ["rejected", null],
      ["accepted", summary.runId],
      ["pending", null],
    ]);
  },
  300_000,
);
