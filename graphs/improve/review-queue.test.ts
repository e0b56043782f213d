import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ReviewQueue, shouldQueue } from "./review-queue.js";
import type { EventInput, EventSink } from "../../memory/index.js";
import type { HarvestItem, VoteDecision } from "./types.js";

const item: HarvestItem = { id: "q-tar", question: "How do I extract a tar", failedAnswer: "zip", traceIds: ["t3"], userId: "u", createdAt: 3_000, category: "ungrounded" };
const candidates = [
  { id: "c-kb", itemId: "q-tar", text: "Use tar -xf archive.tar to extract.", source: "knowledge-base" as const },
  { id: "c-llm", itemId: "q-tar", text: "Run tar xf file.tar", source: "llm" as const },
];
const decision = (over: Partial<VoteDecision>): VoteDecision => ({
  itemId: "q-tar", accepted: false, winnerId: "c-kb", winnerScore: 0.6, reason: "no quorum of supporters",
  ballots: [{ candidateId: "c-kb", voter: "grounding", score: 0.9, reason: "in the retrieved knowledge" }, { candidateId: "c-kb", voter: "intent", score: 0.3, reason: "covers 30% of the task words" }], ...over,
});

const openQueue = async () => {
  let clock = 100;
  const path = join(await mkdtemp(join(tmpdir(), "review-")), "improve", "review-queue.jsonl");
  return { path, queue: new ReviewQueue({ path, now: () => clock++ }) };
};

describe("shouldQueue", () => {
  it("queues a rejected vote between the bars, not one above the accept bar (accepted) or below the review bar", () => {
    expect(shouldQueue(decision({}), 0.5)).toBe(true);
    expect(shouldQueue(decision({ accepted: true, winnerScore: 0.9 }), 0.5)).toBe(false);
    expect(shouldQueue(decision({ winnerScore: 0.4 }), 0.5)).toBe(false);
    expect(shouldQueue(decision({ winnerId: null, winnerScore: 0 }), 0)).toBe(false);
  });

  it("never queues a winner vetoed for safety, but does queue one vetoed for another reason", () => {
    const unsafe = decision({ ballots: [...decision({}).ballots, { candidateId: "c-kb", voter: "intent", score: 0, reason: "recommends a dangerous command (rm -rf /)" }] });
    expect(shouldQueue(unsafe, 0.5)).toBe(false);
    const offTopic = decision({ ballots: [...decision({}).ballots, { candidateId: "c-kb", voter: "critic", score: 0.1, reason: "does not answer the question" }] });
    expect(shouldQueue(offTopic, 0.5)).toBe(true);
    // a safety objection to another candidate does not block the winner
    const other = decision({ ballots: [...decision({}).ballots, { candidateId: "c-llm", voter: "intent", score: 0, reason: "unsafe" }] });
    expect(shouldQueue(other, 0.5)).toBe(true);
  });
});

describe("ReviewQueue", () => {
  it("queues once per run and item, and lists pending items with their candidates and ballots", async () => {
    const { queue } = await openQueue();
    const [queued] = await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }] });
    expect(await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }] })).toEqual([]);
    expect(await queue.pending()).toEqual([expect.objectContaining({ id: queued!.id, runId: "run-1", itemId: "q-tar", question: item.question, failedAnswer: "zip", status: "pending", decision: null, winnerScore: 0.6 })]);
    expect((await queue.pending())[0]!.candidates.map((c) => c.id)).toEqual(["c-kb", "c-llm"]);
  });

  it("records a decision as an event with its actor and as a reviewer ballot", async () => {
    const { queue, path } = await openQueue();
    const [queued] = await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }] });
    const decided = await queue.decide({ id: queued!.id, actor: "alice", choice: "accept", candidateId: "c-llm" });
    expect(decided.status).toBe("accepted");
    expect(decided.decision).toEqual({ actor: "alice", at: 101, choice: "accept", candidateId: "c-llm" });
    expect(decided.ballots.at(-1)).toEqual({ candidateId: "c-llm", voter: "reviewer:alice", score: 1, reason: "accepted by alice in review" });
    // a change of mind replaces the reviewer's ballot; both events stay in the log
    const rejected = await queue.decide({ id: queued!.id, actor: "bob", choice: "reject" });
    expect(rejected.ballots.filter((b) => b.voter.startsWith("reviewer:"))).toEqual([{ candidateId: "c-kb", voter: "reviewer:bob", score: 0, reason: "rejected by bob in review" }]);
    const events = (await readFile(path, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { type: string; decision?: { actor: string } });
    expect(events.map((e) => `${e.type}${e.decision ? `:${e.decision.actor}` : ""}`)).toEqual(["review-queued", "review-decided:alice", "review-decided:bob"]);
    expect(await queue.pending()).toEqual([]);
  });

  it("appends each decision to the event log with the reviewer as actor and the item's source turns", async () => {
    const appended: EventInput[] = [];
    const events: EventSink = { append: async (event) => (appended.push(event), { id: "e", time: 0, ...event }) };
    const path = join(await mkdtemp(join(tmpdir(), "review-")), "review-queue.jsonl");
    const queue = new ReviewQueue({ path, now: () => 5, events });
    const [queued] = await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }] });
    await queue.decide({ id: queued!.id, actor: "alice", choice: "accept", editedText: "tar -xf archive.tar" });
    expect(appended).toEqual([
      {
        actor: "alice",
        type: "review-decided",
        payload: { reviewId: queued!.id, runId: "run-1", itemId: "q-tar", traceIds: ["t3"], userId: "u", choice: "accept", candidateId: "c-kb", edited: true, ballot: expect.objectContaining({ voter: "reviewer:alice", score: 1 }) },
      },
    ]);
  });

  it("refuses unknown items and unknown candidates", async () => {
    const { queue } = await openQueue();
    await expect(queue.decide({ id: "rv-nope", actor: "a", choice: "reject" })).rejects.toMatchObject({ code: "REVIEW_NOT_FOUND" });
    const [queued] = await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }] });
    await expect(queue.decide({ id: queued!.id, actor: "a", choice: "accept", candidateId: "c-x" })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    await expect(queue.decide({ id: queued!.id, actor: "a", choice: "accept", editedText: "   " })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    expect(await queue.pending()).toHaveLength(1);
  });

  it("hands accepted reviews to one night (again to the same run on resume), drops rejected ones, and freezes used decisions", async () => {
    const { queue } = await openQueue();
    const other: HarvestItem = { ...item, id: "q-mount", question: "How do I mount a disk" };
    const [a, b] = await queue.enqueue({ runId: "run-1", entries: [{ item, candidates, decision: decision({}) }, { item: other, candidates: [{ ...candidates[0]!, itemId: "q-mount" }], decision: decision({ itemId: "q-mount" }) }] });
    await queue.decide({ id: a!.id, actor: "alice", choice: "accept", editedText: "tar -xf archive.tar" });
    await queue.decide({ id: b!.id, actor: "alice", choice: "reject" });
    const night = await queue.takeDecided({ runId: "run-2" });
    expect(night).toHaveLength(1);
    expect(night[0]!.item).toMatchObject({ id: a!.id, question: item.question, failedAnswer: "zip" });
    expect(night[0]!.candidate).toEqual({ id: `${a!.id}:edited`, itemId: a!.id, text: "tar -xf archive.tar", source: "knowledge-base" });
    expect(night[0]!.decision).toMatchObject({ itemId: a!.id, accepted: true, winnerId: `${a!.id}:edited` });
    expect(night[0]!.decision.ballots.at(-1)).toMatchObject({ voter: "reviewer:alice", score: 1, candidateId: `${a!.id}:edited` });
    expect(await queue.takeDecided({ runId: "run-2" })).toHaveLength(1);
    expect(await queue.takeDecided({ runId: "run-3" })).toEqual([]);
    await expect(queue.decide({ id: a!.id, actor: "bob", choice: "reject" })).rejects.toMatchObject({ code: "REVIEW_NOT_FOUND" });
  });
});
