import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { EventLog } from "./event-log.js";
import type { CouncilEvent, EventInput, EventSink } from "./event-log-schema.js";
import { InMemoryStore } from "./in-memory-store.js";
import { withEventLog } from "./logged-memory.js";
import { rebuildFromLog } from "./rebuild-from-log.js";
import type { TurnRecord } from "./types.js";
import { VerifiedMemory } from "./verified-memory.js";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "council-logged-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const embeddings = new HashEmbeddings({ dimensions: 64 });

const turn = (traceId: string, userId: string | null, at: number): TurnRecord => ({
  traceId,
  sessionId: "s1",
  userId,
  question: `How do I fix problem ${traceId}?`,
  answer: `Answer for ${traceId}`,
  route: "helpdesk",
  model: "seedling",
  adapter: null,
  score: 0.8,
  category: null,
  reasons: [],
  success: true,
  feedback: null,
  latencyMs: 12,
  tokens: 7,
  createdAt: at,
  updatedAt: at,
});

/** A sink that records what it was given, and can be told to fail (a full disk). */
class RecordingSink implements EventSink {
  readonly appended: EventInput[] = [];
  failing = false;
  async append(event: EventInput): Promise<CouncilEvent> {
    if (this.failing) throw new Error("disk full");
    this.appended.push(event);
    return { id: `e${this.appended.length}`, time: 0, ...event };
  }
}

describe("withEventLog", () => {
  it("logs every memory write with its actor: turn, 👍, correction, success flip", async () => {
    const sink = new RecordingSink();
    let clock = 1_000;
    const memory = withEventLog(await InMemoryStore.create({ embeddings, now: () => clock }), sink);
    await memory.record(turn("t1", "alice", 1_000));
    await memory.record(turn("t2", null, 1_001));
    clock = 2_000;
    await memory.setFeedback("t1", { rating: 1, at: 2_000 });
    await memory.setFeedback("t2", { rating: -1, correction: "use tar xzf", at: 2_001 });
    await memory.setSuccess("t1", false);
    expect(sink.appended.map((event) => [event.type, event.actor])).toEqual([
      ["turn-recorded", "alice"],
      ["turn-recorded", "anonymous"],
      ["feedback-given", "alice"],
      ["correction-given", "anonymous"],
      ["turn-success-set", "alice"],
    ]);
    expect(sink.appended[3]!.payload).toEqual({ traceId: "t2", userId: null, feedback: { rating: -1, correction: "use tar xzf", at: 2_001 }, updatedAt: 2_000 });
  });

  it("does not acknowledge a write the log could not take", async () => {
    const sink = new RecordingSink();
    const memory = withEventLog(await InMemoryStore.create({ embeddings }), sink);
    sink.failing = true;
    await expect(memory.record(turn("t1", "alice", 1))).rejects.toThrow("disk full");
    await expect(memory.setFeedback("t1", { rating: 1, at: 2 })).rejects.toThrow("disk full");
  });
});

describe("rebuildFromLog", () => {
  it("rebuilds turns and verified entries that equal the live ones", async () => {
    let clock = 5_000;
    const now = () => clock;
    const log = await EventLog.create({ dir: join(tempDir(), "events"), now });
    const live = withEventLog(await InMemoryStore.create({ embeddings, now }), log);
    const liveVerified = await VerifiedMemory.create({ path: join(tempDir(), "verified.sqlite"), embeddings, now, events: log });
    for (let i = 0; i < 6; i++) {
      clock += 10;
      await live.record(turn(`t${i}`, i % 2 === 0 ? "alice" : null, clock));
    }
    clock += 100;
    await live.setFeedback("t1", { rating: -1, comment: "wrong", at: clock });
    clock += 100;
    await live.setFeedback("t2", { rating: -1, correction: "the right answer", at: clock });
    clock += 100;
    await live.setSuccess("t3", false);
    clock += 100;
    const ballots = [{ voter: "grounding", score: 0.9, reason: "on the page" }];
    await liveVerified.add([
      { question: "How do I fix problem t2?", answer: "the right answer", source: "correction", runId: "r1", voteScore: 0.9, ballots, release: "v1", status: "canary", traceIds: ["t2"] },
      { question: "How do I fix problem t1?", answer: "a rewrite", source: "agent0", runId: "r1", voteScore: 0.8, ballots, release: "v1", status: "canary", traceIds: ["t1"] },
    ]);
    clock += 100;
    await liveVerified.setReleaseStatus({ release: "v1", to: "active", note: "promoted" });
    clock += 100;
    const [first] = await liveVerified.list();
    await liveVerified.demote({ id: first!.id, note: "👎 on trace t9", actor: "alice" });

    const rebuilt = await rebuildFromLog({
      events: await log.events(),
      openMemory: ({ now: replay }) => InMemoryStore.create({ embeddings, now: replay }),
      openVerified: ({ now: replay }) => VerifiedMemory.create({ path: join(tempDir(), "verified.sqlite"), embeddings, now: replay }),
    });
    expect(rebuilt.applied).toBe(6 + 3 + 2 + 1 + 1);
    expect(await rebuilt.memory.turns()).toEqual(await live.turns());
    expect(await rebuilt.verified!.list()).toEqual(await liveVerified.list());
    expect((await live.turns()).filter((t) => !t.success).map((t) => t.traceId)).toEqual(["t1", "t2", "t3"]);
    await liveVerified.dispose();
    await rebuilt.verified!.dispose();
  });
});
