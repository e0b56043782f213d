import { describe, expect, it } from "vitest";
import { auditChain, formatAudit } from "./event-audit.js";
import type { CouncilEvent, EventInput } from "./event-log-schema.js";

let n = 0;
const at = (event: EventInput): CouncilEvent => ({ id: `e${++n}`, time: Date.parse("2026-12-06T02:00:00Z") + n * 1000, ...event });

const events: CouncilEvent[] = [
  at({ actor: "alice", type: "turn-recorded", payload: { traceId: "t1", userId: "alice", question: "How do I list hidden files", answer: "cd", success: false } }),
  at({ actor: "bob", type: "turn-recorded", payload: { traceId: "t2", userId: "bob", question: "How do I extract a tar", answer: "zip", success: false } }),
  at({ actor: "bob", type: "correction-given", payload: { traceId: "t2", userId: "bob", feedback: { rating: -1, correction: "tar -xf a.tar" }, updatedAt: 1 } }),
  at({ actor: "nightly", type: "vote-cast", payload: { runId: "r1", itemId: "q-1", traceIds: ["t1"], userId: "alice", accepted: false, winnerScore: 0.6, ballots: [{ voter: "grounding", score: 0.6 }], reason: "between the bars" } }),
  at({ actor: "dana", type: "review-decided", payload: { reviewId: "rv-1", runId: "r1", traceIds: ["t1"], userId: "alice", choice: "accept", edited: false } }),
  at({ actor: "nightly", type: "vote-cast", payload: { runId: "r2", itemId: "rv-1", traceIds: ["t1"], userId: "alice", accepted: true, winnerScore: 1, ballots: [{ voter: "reviewer:dana", score: 1 }], reason: "accepted by dana" } }),
  at({ actor: "nightly", type: "vote-cast", payload: { runId: "r2", itemId: "q-2", traceIds: ["t2"], userId: "bob", accepted: true, winnerScore: 0.9, ballots: [{ voter: "grounding", score: 0.9 }], reason: "mean" } }),
  at({ actor: "nightly", type: "dataset-built", payload: { runId: "r2", sha256: "ab".repeat(32), examples: [{ id: "r2:rv-1", traceIds: ["t1"] }, { id: "r2:q-2", traceIds: ["t2"] }] } }),
  at({ actor: "nightly", type: "gate-judged", payload: { runId: "r2", passed: true, reasons: [] } }),
  at({ actor: "ops", type: "approval-decided", payload: { runId: "r2", decision: "approve", policy: "approve" } }),
  at({ actor: "nightly", type: "adapter-deployed", payload: { runId: "r2", version: "v7" } }),
  at({ actor: "root", type: "adapter-rolled-back", payload: { version: "v7", reason: "manual" } }),
];

describe("auditChain", () => {
  it("for a version: the run's chain and every example back to its turns, feedback, ballots, reviews and people", () => {
    const report = auditChain(events, "v7");
    if (report.kind !== "version") throw new Error(report.kind);
    expect(report.runId).toBe("r2");
    expect(report.chain.map((event) => event.type)).toEqual(["dataset-built", "gate-judged", "approval-decided", "adapter-deployed", "adapter-rolled-back"]);
    const [reviewed, corrected] = report.examples;
    expect(reviewed).toMatchObject({ id: "r2:rv-1", people: ["alice", "dana"] });
    expect(reviewed!.votes.map((event) => event.payload.runId)).toEqual(["r1", "r2"]);
    expect(corrected!.feedback.map((event) => event.type)).toEqual(["correction-given"]);
    const text = formatAudit(report);
    expect(text).toMatch(/^adapter v7 \(run r2\)/);
    expect(text).toContain("example r2:rv-1  people: alice, dana");
    expect(text).toMatch(/bob\s+correction-given\s+trace t2 👎 correction "tar -xf a.tar"/);
  });

  it("for a trace: every event about that turn; for a run: its events; unknown ids are NOT_FOUND", () => {
    expect(auditChain(events, "t2").chain.map((event) => event.type)).toEqual(["turn-recorded", "correction-given", "vote-cast", "dataset-built"]);
    expect(auditChain(events, "r1")).toMatchObject({ kind: "run", examples: [] });
    expect(() => auditChain(events, "nope")).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("says when a source turn is no longer in the log (erased or past retention)", () => {
    const report = auditChain(events.filter((event) => event.actor !== "alice"), "v7");
    expect(formatAudit(report)).toContain("(1 source turn(s) not in the log: erased, past retention, or recorded before the log)");
  });
});
