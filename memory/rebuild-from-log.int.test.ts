import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { EventLog } from "./event-log.js";
import { FaissMemory } from "./faiss-memory.js";
import { withEventLog } from "./logged-memory.js";
import { rebuildFromLog } from "./rebuild-from-log.js";
import type { TurnRecord } from "./types.js";
import { VerifiedMemory } from "./verified-memory.js";

const root = mkdtempSync(join(tmpdir(), "council-rebuild-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const embeddings = new HashEmbeddings({ dimensions: 128 });
const TOPICS = ["reset my password", "list hidden files", "extract a tar archive", "connect to the VPN", "free disk space"];

it("memory and verified entries rebuilt from the event log equal the live ones (FAISS memory, SQLite verified memory)", async () => {
  let clock = Date.parse("2026-12-01T08:00:00Z");
  const now = () => clock;
  const tick = (ms: number) => (clock += ms);
  // 40 turns over three days: the log rolls and closes two segments on the way.
  const log = await EventLog.create({ dir: join(root, "events"), now });
  const liveTurns = await FaissMemory.create({ dir: join(root, "live"), embeddings, now });
  const live = withEventLog(liveTurns, log);
  const liveVerified = await VerifiedMemory.create({ path: join(root, "live", "verified.sqlite"), embeddings, now, events: log });
  for (let i = 0; i < 40; i++) {
    tick(2 * 3_600_000);
    const turn: TurnRecord = {
      traceId: `trace-${i}`, sessionId: `s-${i % 4}`, userId: i % 5 === 0 ? null : `user-${i % 3}`,
      question: `How do I ${TOPICS[i % TOPICS.length]} (${i})?`, answer: `Step ${i}: see the ${TOPICS[i % TOPICS.length]} page.`,
      route: i % 2 === 0 ? "helpdesk" : "linux", model: "seedling", adapter: i % 7 === 0 ? "v1" : null, score: (i % 10) / 10,
      category: i % 10 < 5 ? "ungrounded" : null, reasons: i % 10 < 5 ? ["not in the passages"] : [], success: i % 10 >= 5,
      feedback: null, latencyMs: 100 + i, tokens: 20 + i, createdAt: clock, updatedAt: clock,
    };
    await live.record(turn);
    if (i % 4 === 1) {
      tick(60_000);
      await live.setFeedback(turn.traceId, i % 8 === 1 ? { rating: -1, correction: `Do it like this (${i})`, at: clock } : { rating: 1, at: clock });
    }
    if (i % 9 === 2) {
      tick(1_000);
      await live.setSuccess(turn.traceId, !turn.success);
    }
  }
  tick(3_600_000);
  const ballots = [{ voter: "grounding", score: 0.9, reason: "in the passages" }];
  await liveVerified.add(
    [1, 9, 17].map((i) => ({ question: `How do I ${TOPICS[i % TOPICS.length]} (${i})?`, answer: `Do it like this (${i})`, source: "correction" as const, runId: "run-1", voteScore: 0.9, ballots, release: "v2", status: "canary" as const, traceIds: [`trace-${i}`] })),
  );
  tick(3_600_000);
  await liveVerified.setReleaseStatus({ release: "v2", to: "active", note: "canary v2 promoted" });
  tick(3_600_000);
  await liveVerified.demote({ id: (await liveVerified.list())[1]!.id, note: "👎 on trace trace-33", actor: "user-1" });

  const events = await log.events();
  expect((await log.segments()).filter((segment) => segment.closed).length).toBeGreaterThanOrEqual(2);
  const rebuilt = await rebuildFromLog({
    events,
    openMemory: ({ now: replay }) => FaissMemory.create({ dir: join(root, "rebuilt"), embeddings, now: replay }),
    openVerified: ({ now: replay }) => VerifiedMemory.create({ path: join(root, "rebuilt", "verified.sqlite"), embeddings, now: replay }),
  });
  try {
    expect(await rebuilt.memory.turns()).toEqual(await live.turns());
    expect(await rebuilt.memory.failures()).toEqual(await live.failures());
    expect(rebuilt.memory.counts()).toEqual(live.counts());
    for (const query of ["how do I reset my password", "disk space"]) {
      const ids = async (memory: typeof live) => (await memory.search(query, { k: 5 })).map((hit) => [hit.record.traceId, hit.score.toFixed(5)]);
      expect(await ids(rebuilt.memory)).toEqual(await ids(live));
    }
    expect(await rebuilt.verified!.list()).toEqual(await liveVerified.list());
    expect((await live.turns()).filter((turn) => turn.feedback?.correction !== undefined).length).toBeGreaterThan(0);
  } finally {
    await rebuilt.memory.dispose();
    await rebuilt.verified!.dispose();
    await liveTurns.dispose();
    await liveVerified.dispose();
  }
});
