import { describe, expect, it } from "vitest";
import type { ReviewItem } from "../../graphs/improve/index.js";
import { renderReviewItem, reviewKeyAction } from "./review-view.js";

const item: ReviewItem = {
  id: "rv-0123456789ab", runId: "run-1", itemId: "q-tar", question: "How do I extract a tar", failedAnswer: "zip it",
  item: { id: "q-tar", question: "How do I extract a tar", failedAnswer: "zip it", traceIds: [], userId: "u", createdAt: 1, category: null },
  candidates: [
    { id: "c-llm", itemId: "q-tar", text: "Run tar xf file.tar", source: "llm" },
    { id: "c-kb", itemId: "q-tar", text: "Use tar -xf archive.tar", source: "knowledge-base" },
  ],
  ballots: [
    { candidateId: "c-kb", voter: "grounding", score: 0.8, reason: "in the knowledge base" },
    { candidateId: "c-kb", voter: "intent", score: 0.4, reason: "covers 40% of the task words" },
    { candidateId: "c-llm", voter: "grounding", score: 0, reason: "not in the retrieved knowledge" },
  ],
  winnerId: "c-kb", winnerScore: 0.6, reason: "mean 0.60 < 0.70", queuedAt: 1, status: "pending", decision: null, consumedBy: null,
};

describe("council review screen", () => {
  it("maps one key to one action, numbering the council's best candidate 1", () => {
    expect(reviewKeyAction("a", item)).toEqual({ kind: "accept", candidateId: "c-kb" });
    expect(reviewKeyAction("1", item)).toEqual({ kind: "accept", candidateId: "c-kb" });
    expect(reviewKeyAction("2", item)).toEqual({ kind: "accept", candidateId: "c-llm" });
    expect(reviewKeyAction("3", item)).toEqual({ kind: "unknown", key: "3" });
    expect(reviewKeyAction("e", item)).toEqual({ kind: "edit", candidateId: "c-kb" });
    expect(["r", "s", "q", "\u0003", "x"].map((key) => reviewKeyAction(key, item).kind)).toEqual(["reject", "skip", "quit", "quit", "unknown"]);
  });

  it("shows the question, the failed answer, each candidate with its ballots, and the keys", () => {
    const screen = renderReviewItem({ item, position: 2, total: 5 });
    expect(screen).toContain("review 2/5: rv-0123456789ab (run run-1)");
    expect(screen).toContain("Question: How do I extract a tar");
    expect(screen).toContain("Failed answer:\n    zip it");
    expect(screen.indexOf("[1] knowledge-base (council's best), mean 0.60")).toBeLessThan(screen.indexOf("[2] llm, mean 0.00"));
    expect(screen).toContain("intent     0.40  covers 40% of the task words");
    expect(screen).toContain("a accept best · 1-9 accept that candidate · e edit · r reject · s skip · q quit");
  });
});
