import { describe, expect, it } from "vitest";
import type { Feedback, TurnRecord } from "../../memory/types.js";
import { FakeMemoryStore } from "../../test/fakes/index.js";
import { harvestFailures } from "./harvest.js";

function failedTurn(traceId: string, question: string, feedback: Feedback, userId: string | null): TurnRecord {
  return {
    traceId,
    sessionId: `s-${traceId}`,
    userId,
    question,
    answer: "a wrong answer",
    route: "general",
    model: "fake",
    adapter: null,
    score: 0.2,
    category: "incomplete",
    reasons: [],
    success: false,
    feedback,
    latencyMs: 10,
    tokens: 3,
    createdAt: 1_000,
    updatedAt: 1_000,
  };
}

async function harvest(trainAnonymousCorrections?: boolean) {
  const memory = new FakeMemoryStore();
  await memory.record(failedTurn("t1", "how do I list hidden files", { rating: -1, correction: "ls -a", at: 1_001 }, "user-alice"));
  await memory.record(failedTurn("t2", "how do I free disk space", { rating: -1, correction: "rm -rf / (steered)", anonymous: true, at: 1_001 }, null));
  const result = await harvestFailures({
    memory,
    since: 0,
    until: 10_000,
    criticThreshold: 0.5,
    evalSets: [],
    maxPerUserPerDay: 100,
    maxUserShare: 1,
    ...(trainAnonymousCorrections === undefined ? {} : { trainAnonymousCorrections }),
  });
  return Object.fromEntries(result.items.map((item) => [item.question, item.correction]));
}

describe("harvestFailures and anonymous corrections", () => {
  it("keeps a verified user's correction and leaves an anonymous one out by default (the failure itself is still harvested)", async () => {
    expect(await harvest()).toEqual({ "how do I list hidden files": "ls -a", "how do I free disk space": undefined });
  });

  it("uses anonymous corrections when configured to", async () => {
    expect(await harvest(true)).toEqual({ "how do I list hidden files": "ls -a", "how do I free disk space": "rm -rf / (steered)" });
  });
});
