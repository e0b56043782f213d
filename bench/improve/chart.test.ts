import { describe, expect, it } from "vitest";
import { renderChart } from "./chart.js";
import { parseNightlyOutput } from "./council-process.js";

describe("chart", () => {
  it("draws every series per cycle and the per-cycle table", () => {
    const svg = renderChart({
      title: "t <1>",
      results: {
        baseline: { traffic_success: 0.4, eval_success: 0.3 },
        cycles: [{ cycle: 1, traffic_success: 0.7, repeat_failure_rate: 0.1, regression_kept: 1, eval_success: 0.35, harvested: 12, accepted: 9, training_seconds: 40.5, cycle_seconds: 300 }],
      },
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("t &lt;1&gt;");
    expect(svg.match(/<polyline/g)).toHaveLength(2); // traffic and eval have a baseline point and a cycle point
    expect(svg.match(/<circle/g)).toHaveLength(6);
    expect(svg).toContain("traffic success: 70 %");
    expect(svg).toContain("repeat-failure rate: 10 %");
    expect(svg).toContain(">40.5<");
  });
});

describe("nightly output", () => {
  it("reads the RunSummary JSON after any log lines", () => {
    const summary = parseNightlyOutput('council: asking the server\n{\n  "runId": "r1", "outcome": "promoted", "reasons": [], "harvested": 5, "accepted": 4, "trainingSeconds": 12.5, "version": "abc"\n}\n');
    expect(summary).toMatchObject({ runId: "r1", outcome: "promoted", harvested: 5, accepted: 4, trainingSeconds: 12.5 });
  });
  it("rejects output without a summary", () => {
    expect(() => parseNightlyOutput("locked\n")).toThrow(/no JSON summary/);
    expect(() => parseNightlyOutput('{"runId": 1}')).toThrow(/RunSummary/);
    expect(() => parseNightlyOutput('{"outcome": "locked", "reason": "held by pid 1"}')).toThrow(/lock/);
  });
});
