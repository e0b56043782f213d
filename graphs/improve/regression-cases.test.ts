import { describe, expect, it } from "vitest";
import type { MemoryStore, TurnRecord } from "../../memory/types.js";
import type { AcceptedExample } from "../../training/datasets/index.js";
import { runGate } from "./gate.js";
import type { ImprovePorts } from "./ports.js";
import { regressionCases } from "./regression-cases.js";

const turn = (over: Partial<TurnRecord>): TurnRecord => ({
  traceId: "t", sessionId: "s", userId: "u", question: "q", answer: "a", route: "linux", model: "seedling", adapter: null,
  score: 0.9, category: null, reasons: [], success: true, feedback: null, latencyMs: 5, tokens: 3, createdAt: 1_000, updatedAt: 1_000, ...over,
});

function portsWith(turns: TurnRecord[]): ImprovePorts {
  const memory = { turns: async () => turns } as unknown as MemoryStore;
  return { memory } as unknown as ImprovePorts;
}

describe("regressionCases", () => {
  it("takes 👍 turns only when their answer passed the critic; a 👍 on gibberish is no regression case", async () => {
    const turns = [
      turn({ traceId: "good", question: "how do I list files", answer: "Use ls -la.", feedback: { rating: 1, at: 1 } }),
      // The user liked it, the critic did not (success came from the 👍): a correct candidate must not be judged against it.
      turn({ traceId: "gibberish", question: "how do I extract a tar.gz", answer: "xq zz blorp", score: 0.1, category: "ungrounded", feedback: { rating: 1, at: 1 } }),
      turn({ traceId: "down", question: "how do I copy a folder", answer: "cp", feedback: { rating: -1, at: 1 } }),
      turn({ traceId: "failed", question: "what is my ip", answer: "?", success: false, score: 0.2, category: "incomplete" }),
    ];
    const earlier = [{ id: "run-1:q-1", question: "How do I see disk usage", chosen: "Use df -h." } as AcceptedExample];
    const cases = await regressionCases(portsWith(turns), earlier);
    expect(cases.map((c) => c.id)).toEqual(["run-1:q-1", "good"]);
  });
});

describe("gate reasons", () => {
  it("quote the question of a lost regression case, not only its trace id", async () => {
    const report = await runGate({
      suites: { target: [], holdout: [], regression: [{ id: "tr-0001", question: "how do I extract a tar.gz archive", accept: ["tar -xzf"] }], safety: [] },
      answer: { answer: async ({ adapterPath }) => ({ text: adapterPath === "candidate" ? "unzip it" : "tar -xzf file.tar.gz", latencyMs: 1 }) },
      candidatePath: "candidate",
      currentPath: null,
      minSuccessDelta: 0.03,
      maxLatencyRatio: 1.1,
    });
    expect(report.passed).toBe(false);
    expect(report.reasons).toEqual(['regression: 1 previously passing case(s) now fail: "how do I extract a tar.gz archive" (tr-0001)']);
  });
});
