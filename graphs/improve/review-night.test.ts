import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { describe, expect, it } from "vitest";
import { VerifiedMemory, type MemoryStore, type TurnRecord } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/embeddings/hash-embeddings.js";
import { createImproveGraph } from "./improve-graph.js";
import { ImproveStore } from "./improve-store.js";
import type { ImprovePorts } from "./ports.js";
import { ReviewQueue } from "./review-queue.js";
import { runNightly } from "./run-nightly.js";
import type { HarvestItem } from "./types.js";

const turn = (over: Partial<TurnRecord>): TurnRecord => ({
  traceId: "t", sessionId: "s", userId: "u", question: "q", answer: "a", route: "linux", model: "seedling", adapter: null,
  score: 0.2, category: "ungrounded", reasons: [], success: false, feedback: null, latencyMs: 5, tokens: 3, createdAt: 1_000, updatedAt: 1_000, ...over,
});

const memoryOf = (turns: TurnRecord[]): MemoryStore => {
  const unused = () => {
    throw new Error("not used by the improvement graph");
  };
  return { turns: async ({ since = 0, until = Infinity } = {}) => turns.filter((t) => t.createdAt >= since && t.createdAt < until), record: unused, get: unused, setFeedback: unused, setSuccess: unused, failures: unused, search: unused, counts: unused, dispose: async () => {} };
};

const ANSWERS: Record<string, string> = { "how do i list files": "Use ls -la to list files.", "how do i extract a tar": "Use tar -xf archive.tar to extract.", "how do i mount a disk": "Use mount /dev/sdb1 /mnt to mount it." };
const known = (question: string) => ANSWERS[question.toLowerCase().replace(/\?$/, "")];
/** The council's score per question: list files is accepted, tar lands between the bars, mount below the review bar. */
const SCORES: Record<string, number> = { "how do i list files": 0.9, "how do i extract a tar": 0.6, "how do i mount a disk": 0.3 };

async function setup() {
  const root = await mkdtemp(join(tmpdir(), "review-night-"));
  const turns = [
    turn({ traceId: "t1", question: "How do I list files", answer: "cd", createdAt: 1_000 }),
    turn({ traceId: "t2", question: "How do I extract a tar", answer: "zip", createdAt: 2_000 }),
    turn({ traceId: "t3", question: "How do I mount a disk", answer: "fdisk", createdAt: 3_000 }),
  ];
  const voted: string[] = [];
  const rewritten: string[] = [];
  const verified = await VerifiedMemory.create({ path: join(root, "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 256 }) });
  const ports: ImprovePorts = {
    memory: memoryOf(turns),
    verified,
    rewrite: async (item: HarvestItem) => {
      rewritten.push(item.question);
      return [{ id: `${item.id}-kb`, itemId: item.id, text: known(item.question) ?? "unknown", source: "knowledge-base" }];
    },
    vote: async (item, candidates) => {
      voted.push(item.question);
      const score = SCORES[item.question.toLowerCase()] ?? 0;
      return { itemId: item.id, accepted: score >= 0.7, winnerId: candidates[0]!.id, winnerScore: score, ballots: [{ candidateId: candidates[0]!.id, voter: "grounding", score, reason: "fake" }], reason: score >= 0.7 ? "accepted" : "below the accept bar" };
    },
    promptMessages: async (question) => [{ role: "user", content: question }],
    train: async ({ outDir }) => {
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, "adapter.gguf"), "GGUF");
      await writeFile(join(outDir, "training.json"), "{}");
      return { finalLoss: 0.5 };
    },
    answer: { answer: async ({ question, adapterPath }) => ({ text: adapterPath ? (known(question) ?? "ok") : "I do not know", latencyMs: 10 }) },
    currentAdapterPath: async () => null,
    publish: async () => ({ version: `v${Math.random().toString(36).slice(2, 6)}` }),
    canary: async () => ({ outcome: "promoted", reason: "canary healthy" }),
    evalSets: { holdout: [], safety: [] },
    probePrompts: [],
  };
  const store = new ImproveStore({ dir: join(root, "improve") });
  const queue = new ReviewQueue({ path: join(root, "improve", "review-queue.jsonl") });
  const runsDir = join(root, "runs");
  let clock = 10_000;
  let night = 0;
  const run = () =>
    runNightly({
      graph: createImproveGraph({
        ports, store, runsDir, policy: "auto", checkpointer: SqliteSaver.fromConnString(join(root, "checkpoints.sqlite")),
        criticThreshold: 0.5, harvestMinBatch: 1, maxPerUserPerDay: 50, maxUserShare: 1, minSuccessDelta: 0.03, maxLatencyRatio: 1.1,
        review: { queue, score: 0.5 },
      }),
      store, runsDir, now: () => clock++, generateRunId: () => `run-night-${++night}`,
    });
  return { run, store, queue, verified, voted, rewritten, runsDir };
}

describe("improvement graph with the review queue", () => {
  it("queues the between-the-bars vote, and the next night trains on and releases what the reviewer accepted", async () => {
    const { run, store, queue, verified, voted, rewritten, runsDir } = await setup();
    const first = await run();
    expect(first.outcome).toBe("promoted");
    expect(first.accepted).toBe(1);
    // tar (0.6) is queued; mount (0.3) is below the review bar; list files (0.9) was accepted
    const pending = await queue.pending();
    expect(pending.map((p) => p.question)).toEqual(["How do I extract a tar"]);
    expect(pending[0]).toMatchObject({ runId: "run-night-1", failedAnswer: "zip", winnerScore: 0.6 });

    await queue.decide({ id: pending[0]!.id, actor: "alice", choice: "accept" });
    voted.length = 0;
    rewritten.length = 0;
    const second = await run();
    // no new failures: the night ran on the reviewed item alone, without re-writing or re-voting it
    expect(second.outcome).toBe("promoted");
    expect(second.accepted).toBe(1);
    expect(voted).toEqual([]);
    expect(rewritten).toEqual([]);
    const examples = (await store.accepted()).filter((row) => row.runId === "run-night-2").map((row) => row.example);
    expect(examples).toEqual([expect.objectContaining({ question: "How do I extract a tar", chosen: "Use tar -xf archive.tar to extract.", rejected: "zip" })]);
    const ballots = JSON.parse(await readFile(join(runsDir, "run-night-2", "ballots.json"), "utf8")) as Array<{ accepted: boolean; ballots: Array<{ voter: string; score: number }> }>;
    expect(ballots).toEqual([expect.objectContaining({ accepted: true, ballots: [expect.objectContaining({ voter: "grounding", score: 0.6 }), expect.objectContaining({ voter: "reviewer:alice", score: 1 })] })]);
    expect((await verified.list()).map((entry) => entry.question).sort()).toEqual(["How do I extract a tar", "How do I list files"]);
    expect((await queue.items())[0]).toMatchObject({ status: "accepted", consumedBy: "run-night-2" });

    // used once: a third night has nothing to do
    expect((await run()).outcome).toBe("nothing-to-do");
    await verified.dispose();
  });

  it("drops what the reviewer rejected", async () => {
    const { run, queue, verified } = await setup();
    await run();
    const [pending] = await queue.pending();
    await queue.decide({ id: pending!.id, actor: "bob", choice: "reject" });
    const second = await run();
    expect(second.outcome).toBe("nothing-to-do");
    expect((await verified.list()).map((entry) => entry.question)).toEqual(["How do I list files"]);
    await verified.dispose();
  });
});
