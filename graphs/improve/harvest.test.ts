import { describe, expect, it } from "vitest";
import type { MemoryStore, TurnRecord } from "../../memory/types.js";
import { harvestFailures } from "./harvest.js";

const DAY = 86_400_000;
const turn = (over: Partial<TurnRecord>): TurnRecord => ({
  traceId: "t", sessionId: "s", userId: "u", question: "q", answer: "a", route: "linux", model: "seedling", adapter: null,
  score: 0.2, category: "ungrounded", reasons: [], success: false, feedback: null, latencyMs: 5, tokens: 3, createdAt: 1_000, updatedAt: 1_000, ...over,
});

function memoryOf(turns: TurnRecord[]): MemoryStore {
  const unused = () => {
    throw new Error("not used by the harvest");
  };
  return {
    turns: async ({ since = 0, until = Infinity } = {}) => turns.filter((t) => t.createdAt >= since && t.createdAt < until),
    record: unused, get: unused, setFeedback: unused, setSuccess: unused, failures: unused, search: unused, counts: unused, dispose: async () => {},
  };
}

const harvest = (turns: TurnRecord[], over: { maxUserShare?: number; maxPerUserPerDay?: number; evalQuestions?: string[] } = {}) =>
  harvestFailures({
    memory: memoryOf(turns),
    since: 0,
    until: 10 * DAY,
    criticThreshold: 0.5,
    evalSets: [{ name: "holdout", items: (over.evalQuestions ?? []).map((question, i) => ({ id: `h${i}`, question })) }],
    maxPerUserPerDay: over.maxPerUserPerDay ?? 50,
    maxUserShare: over.maxUserShare ?? 0.2,
  });

describe("harvestFailures: per-user filters", () => {
  it("keeps every failure of the only user, the 👎 with a correction included (the share cap needs ⌈1/share⌉ users)", async () => {
    const result = await harvest([
      turn({ traceId: "t1", userId: "me", question: "how do I list files", createdAt: 1_000 }),
      turn({ traceId: "t2", userId: "me", question: "how do I copy a folder", createdAt: 2_000 }),
      turn({ traceId: "t3", userId: "me", question: "how do I extract a tar.gz", answer: "gibberish", success: true, score: 0.9, category: null, createdAt: 3_000, feedback: { rating: -1, correction: "tar -xzf file.tar.gz", at: 3_100 } }),
    ]);
    expect(result.items.map((item) => item.question)).toEqual(["how do I list files", "how do I copy a folder", "how do I extract a tar.gz"]);
    expect(result.items[2]!.correction).toBe("tar -xzf file.tar.gz");
    expect(result.dropped).toEqual([]);
    expect(result.filters.find((f) => f.name === "per-user-share")!.dropped).toBe(0);
  });

  it("still caps a dominant user once enough users contributed, and reports every dropped item with its reason", async () => {
    const heavy = Array.from({ length: 6 }, (_, i) => turn({ traceId: `h${i}`, userId: "heavy", question: `heavy question ${i} about printers`, createdAt: 1_000 + i }));
    const light = Array.from({ length: 4 }, (_, i) => turn({ traceId: `l${i}`, userId: `light-${i}`, question: `light question ${i} about vpn`, createdAt: 2_000 + i }));
    const result = await harvest([...heavy, ...light]);
    const share = result.dropped.filter((d) => d.filter === "per-user-share");
    expect(share.length).toBe(5);
    expect(share.every((d) => d.userId === "heavy" && d.reason.includes("20 %") && d.question.startsWith("heavy question"))).toBe(true);
    expect(result.items.filter((item) => item.userId === "heavy")).toHaveLength(1);
  });

  it("reports eval overlap and the daily cap per item, naming the eval case and the day", async () => {
    const result = await harvest(
      [
        turn({ traceId: "e1", userId: "me", question: "what is the office wifi password", createdAt: 1_000 }),
        turn({ traceId: "d1", userId: "me", question: "first question today", createdAt: 2_000 }),
        turn({ traceId: "d2", userId: "me", question: "second question today", createdAt: 3_000 }),
      ],
      { maxPerUserPerDay: 1, evalQuestions: ["what is the office wifi password"] },
    );
    expect(result.dropped.map((d) => [d.filter, d.question])).toEqual([
      ["eval-overlap", "what is the office wifi password"],
      ["per-user-per-day", "second question today"],
    ]);
    expect(result.dropped[0]!.reason).toContain("holdout/h0");
    expect(result.dropped[1]!.reason).toContain("1970-01-01");
  });
});
