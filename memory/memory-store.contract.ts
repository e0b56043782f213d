import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError, type CouncilErrorCode } from "../core/index.js";
import type { MemoryStore, TurnRecord } from "./types.js";

export interface ContractContext {
  /** The store's clock; tests move it. */
  now: () => number;
}

export type MemoryStoreFactory = (context: ContractContext) => Promise<MemoryStore>;

let counter = 0;

/** A valid turn; override what the test is about. */
export function makeTurn(overrides: Partial<TurnRecord> = {}): TurnRecord {
  counter++;
  return {
    traceId: `trace-${counter}`,
    sessionId: "session-a",
    userId: "user-1",
    question: `question number ${counter}`,
    answer: `answer number ${counter}`,
    route: "helpdesk",
    model: "seedling",
    adapter: null,
    score: 0.8,
    category: null,
    reasons: ["grounded"],
    success: true,
    feedback: null,
    latencyMs: 120,
    tokens: 42,
    createdAt: 1_000_000 + counter,
    updatedAt: 1_000_000 + counter,
    ...overrides,
  };
}

async function expectCode(promise: Promise<unknown> | (() => unknown), code: CouncilErrorCode): Promise<void> {
  let caught: unknown;
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    caught = error;
  }
  expect(isCouncilError(caught, code), `expected CouncilError ${code}, got ${String(caught)}`).toBe(true);
}

/**
 * The behaviour every MemoryStore must have (run against FaissMemory and InMemoryStore).
 * `factory` returns a fresh, empty store each time.
 */
export function describeMemoryStoreContract(name: string, factory: MemoryStoreFactory): void {
  describe(`MemoryStore contract: ${name}`, () => {
    let clock = 5_000_000;
    let store: MemoryStore;

    beforeEach(async () => {
      clock = 5_000_000;
      store = await factory({ now: () => clock });
    });
    afterEach(async () => {
      await store.dispose();
    });

    it("records a turn and returns it unchanged by trace id", async () => {
      const turn = makeTurn({ reasons: ["a", "b"], category: "incomplete", success: false, adapter: "v-abc", userId: null });
      await store.record(turn);
      expect(await store.get(turn.traceId)).toEqual(turn);
      expect(await store.get("no-such-trace")).toBeUndefined();
      expect(store.counts()).toEqual({ total: 1, success: 0, failure: 1 });
    });

    it("rejects a duplicate trace id and keeps the original", async () => {
      const turn = makeTurn();
      await store.record(turn);
      await expectCode(store.record({ ...turn, answer: "other" }), "TRACE_DUPLICATE");
      expect((await store.get(turn.traceId))?.answer).toBe(turn.answer);
      expect(store.counts().total).toBe(1);
    });

    it("rejects invalid turns and records nothing", async () => {
      await expectCode(store.record({ ...makeTurn(), score: 2 }), "FRAME_INVALID");
      await expectCode(store.record({ ...makeTurn(), traceId: "" }), "FRAME_INVALID");
      const { question: _question, ...missing } = makeTurn();
      await expectCode(store.record(missing as TurnRecord), "FRAME_INVALID");
      expect(store.counts().total).toBe(0);
    });

    it("a 👎 sets success=false, stores the feedback and the update time", async () => {
      const turn = makeTurn({ success: true });
      await store.record(turn);
      clock = 6_000_000;
      const updated = await store.setFeedback(turn.traceId, { rating: -1, comment: "wrong", correction: "use tar xf", at: 5_999_000 });
      expect(updated).toMatchObject({ success: false, updatedAt: 6_000_000, feedback: { rating: -1, correction: "use tar xf" } });
      expect(await store.get(turn.traceId)).toEqual(updated);
      expect((await store.failures()).map((t) => t.traceId)).toEqual([turn.traceId]);
      expect(store.counts()).toEqual({ total: 1, success: 0, failure: 1 });
    });

    it("a 👍 sets success=true (the user's rating wins over the critic)", async () => {
      const turn = makeTurn({ success: false });
      await store.record(turn);
      const updated = await store.setFeedback(turn.traceId, { rating: 1, at: 1 });
      expect(updated.success).toBe(true);
      expect(await store.failures()).toEqual([]);
    });

    it("feedback on an unknown trace throws TRACE_NOT_FOUND and changes nothing", async () => {
      const turn = makeTurn();
      await store.record(turn);
      await expectCode(store.setFeedback("missing", { rating: -1, at: 1 }), "TRACE_NOT_FOUND");
      await expectCode(store.setSuccess("missing", false), "TRACE_NOT_FOUND");
      await expectCode(store.setFeedback(turn.traceId, { rating: 0 as 1, at: 1 }), "FRAME_INVALID");
      expect(await store.get(turn.traceId)).toEqual(turn);
      expect(store.counts()).toEqual({ total: 1, success: 1, failure: 0 });
    });

    it("setSuccess flips the flag", async () => {
      const turn = makeTurn({ success: true });
      await store.record(turn);
      clock = 7_000_000;
      expect(await store.setSuccess(turn.traceId, false)).toMatchObject({ success: false, updatedAt: 7_000_000 });
      expect(store.counts().failure).toBe(1);
    });

    it("failures() selects by flag and time window, oldest first, never by similarity", async () => {
      const turns = [
        makeTurn({ createdAt: 300, success: false, question: "printer jammed" }),
        makeTurn({ createdAt: 100, success: false, question: "vpn down" }),
        makeTurn({ createdAt: 200, success: true, question: "vpn down again" }),
        makeTurn({ createdAt: 400, success: false, question: "zzz unrelated" }),
        makeTurn({ createdAt: 500, success: false, question: "late" }),
      ];
      for (const turn of turns) await store.record(turn);
      const ids = (list: TurnRecord[]) => list.map((t) => t.question);
      expect(ids(await store.failures())).toEqual(["vpn down", "printer jammed", "zzz unrelated", "late"]);
      expect(ids(await store.failures({ since: 300, until: 500 }))).toEqual(["printer jammed", "zzz unrelated"]);
      expect(ids(await store.failures({ since: 100, limit: 2 }))).toEqual(["vpn down", "printer jammed"]);
      expect(ids(await store.turns({ until: 300 }))).toEqual(["vpn down", "vpn down again"]);
      expect(await store.failures({ since: 600 })).toEqual([]);
      await expectCode(store.failures({ since: 10, until: 5 }), "MEMORY_QUERY_INVALID");
      await expectCode(store.failures({ limit: 0 }), "MEMORY_QUERY_INVALID");
    });

    it("search returns the most similar turns first, k at most", async () => {
      await store.record(makeTurn({ question: "How do I reset my VPN password?" }));
      await store.record(makeTurn({ question: "The printer on floor 3 is jammed" }));
      await store.record(makeTurn({ question: "Outlook keeps asking for my password" }));
      await store.record(makeTurn({ question: "How to extract a tar archive" }));
      const hits = await store.search("reset VPN password", { k: 2 });
      expect(hits).toHaveLength(2);
      expect(hits[0]!.record.question).toBe("How do I reset my VPN password?");
      expect(hits[0]!.score).toBeGreaterThan(hits[1]!.score);
      for (const hit of hits) expect(Math.abs(hit.score)).toBeLessThanOrEqual(1.0001);
      expect(await store.search("anything", { k: 10 })).toHaveLength(4);
    });

    it("search filters by success, route, adapter and session, even when the match is far down", async () => {
      for (let i = 0; i < 60; i++) await store.record(makeTurn({ question: `reset my vpn password please ${i}`, success: true }));
      await store.record(makeTurn({ question: "printer ink", success: false, route: "hardware", adapter: "v1", sessionId: "s-x" }));
      const bySuccess = await store.search("reset vpn password", { k: 3, filter: { success: false } });
      expect(bySuccess.map((h) => h.record.question)).toEqual(["printer ink"]);
      expect((await store.search("vpn", { k: 3, filter: { route: "hardware" } })).map((h) => h.record.question)).toEqual(["printer ink"]);
      expect((await store.search("vpn", { k: 3, filter: { adapter: "v1" } })).map((h) => h.record.question)).toEqual(["printer ink"]);
      expect(await store.search("vpn", { k: 100, filter: { adapter: null } })).toHaveLength(60);
      expect((await store.search("vpn", { k: 3, filter: { sessionId: "s-x", success: false } })).map((h) => h.record.question)).toEqual(["printer ink"]);
      expect(await store.search("vpn", { k: 3, filter: { sessionId: "nobody" } })).toEqual([]);
    });

    it("search on an empty store returns nothing; bad options throw MEMORY_QUERY_INVALID", async () => {
      expect(await store.search("hello")).toEqual([]);
      await expectCode(store.search("x", { k: 0 }), "MEMORY_QUERY_INVALID");
      await expectCode(store.search("x", { k: 1.5 }), "MEMORY_QUERY_INVALID");
      await expectCode(store.search("x", { filter: { bogus: 1 } as never }), "MEMORY_QUERY_INVALID");
      await expectCode(store.search(42 as unknown as string), "MEMORY_QUERY_INVALID");
    });
  });
}
