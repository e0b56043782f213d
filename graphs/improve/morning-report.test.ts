import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeFixtureRun, type FixtureRun } from "../../test/helpers/run-fixtures.js";
import { trainingReportSchema } from "../../training/index.js";
import { runGate, type AnswerPort } from "./gate.js";
import { withCanaryVerdicts } from "./gate-canary.js";
import { renderReport, summarizeRun, writeRunReport } from "./morning-report.js";
import { readRunFolder } from "./run-folder.js";

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function fixture(kind: FixtureRun) {
  const runsDir = await mkdtemp(join(tmpdir(), "report-"));
  dirs.push(runsDir);
  const runDir = await writeFixtureRun({ runsDir, runId: "run-20261206T020000-abcd", kind });
  return { runDir, folder: await readRunFolder(runDir) };
}

describe("morning report", () => {
  it("a promoted run: harvest, vote with examples, verified memory, loss curve, gate table, canary windows", async () => {
    const { folder, runDir } = await fixture("promoted");
    expect(folder.problems).toEqual([]);
    // the fixture's training.json is what the real trainer writes
    expect(trainingReportSchema.safeParse(JSON.parse(await readFile(join(runDir, "adapter", "training.json"), "utf8"))).success).toBe(true);
    const { markdown, svg } = renderReport(folder);
    expect(markdown).toContain("Outcome: **promoted** (adapter v-abc)");
    expect(markdown).toContain("3 failed question(s) harvested; top failure categories: ungrounded 2, incomplete 1.");
    expect(markdown).toContain("Left out by the harvest filters: holdout 1.");
    expect(markdown).toContain("2 accepted, 1 rejected (of 3).");
    expect(markdown).toContain("| How do I list hidden files? | Run `ls -la` to list every file, hidden ones included. | knowledge-base | 0.91 |");
    expect(markdown).toMatch(/\| How do I find large files\? \| best candidate h3-llm is vetoed by grounding \(score < 0.2\) \(lowest: grounding 0.00: `du -a \\\| sort` is not in the retrieved knowledge\) \|/);
    expect(markdown).toContain("2 of 2 entr(ies) released as v-abc (status active); 0 dropped by their own gate.");
    expect(markdown).toContain("2 example(s), 3 epoch(s), loss 2.100 → 0.400, 42.5 s.");
    expect(markdown).toContain("Passed, compared with base model, through a zero-B twin of the candidate.");
    // a gate.json from before per-metric verdicts: its suites and cost make the table
    expect(markdown).toContain("| target | 10 | 100.0% | 0.0% | — | pass | success 100.0% (current 0.0%) |");
    expect(markdown).toContain("promoted: canary v-abc promoted after 3 analysis window(s)");
    expect(markdown).toContain("| 2 | 100% | 2026-12-06T02:30:00.000Z | pass | — | canary 96.0% success, p95 800 ms over 100 requests |");
    expect(markdown).toContain("- Nothing needs attention.");
    // one page
    expect(markdown.split("\n").length).toBeLessThan(80);
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg.match(/<circle /g)).toHaveLength(3);
    expect(svg).toContain("epoch 3: 0.400");
    for (const label of ["harvested", "accepted", "rejected", "verified released"]) expect(svg).toContain(`>${label}</text>`);
  });

  it("a gate-failed run that released verified memory only: the failing suite and the dropped entry are what to look at", async () => {
    const { folder } = await fixture("gate-failed-memory-only");
    const { markdown, report } = renderReport(folder);
    expect(markdown).toContain("Outcome: **gate-failed**");
    expect(report.attention).toEqual([
      "Gate suite target failed: success 50.0% < current 40.0% + 15.0%. The adapter did not ship.",
      "1 verified entr(ies) dropped by their own gate (see Verified memory): check whether the answer or the eval case is wrong.",
    ]);
    expect(markdown).toContain(`1 of 2 entr(ies) released as memory:${folder.runId} (status active); 1 dropped by their own gate.`);
    expect(markdown).toContain('- dropped "How do I extract a tar.gz archive?": holdout: the entry answers ho-7 and fails it');
    expect(markdown).toContain("| target | 10 | 50.0% | 40.0% | — | **FAIL** | success 50.0% < current 40.0% + 15.0% |");
    expect(markdown).toContain("No canary ran.");
  });

  it("a nothing-to-do run says so in every section and draws an empty loss panel", async () => {
    const { folder } = await fixture("nothing-to-do");
    const { markdown, svg, report } = renderReport(folder);
    expect(markdown).toContain("Outcome: **nothing-to-do**");
    expect(markdown).toContain("- 0 failure(s) harvested from 0 failed turn(s); minimum batch is 1");
    expect(markdown).toContain("0 failed question(s) harvested.");
    expect(markdown).toContain("Nothing was voted on.");
    expect(markdown).toContain("Verified memory was not part of this run.");
    expect(markdown).toContain("No adapter was trained tonight.");
    expect(markdown).toContain("The adapter gate did not run.");
    expect(report.training).toBeNull();
    expect(svg).toContain("no adapter trained");
    expect(svg).not.toContain("<polyline");
  });

  it("groups rejection reasons that differ only by candidate ids and numbers, and flags a vote that rejects most", async () => {
    const { folder } = await fixture("promoted");
    const ballots = [0.31, 0.2, 0.9].map((score, i) => ({ itemId: `h${i + 1}`, accepted: score > 0.5, winnerId: `c${i}`, winnerScore: score, ballots: [], reason: score > 0.5 ? "accepted" : `best candidate c${i} scored ${score.toFixed(3)} < 0.6` }));
    const report = summarizeRun({ ...folder, ballots });
    expect(report.vote.topRejections).toEqual([{ reason: "best candidate scored N < N", count: 2 }]);
    expect(report.attention).toContain("The vote rejected 2 of 3 rewrites (mostly: best candidate scored N < N): the knowledge base may not cover the top failure category (ungrounded).");
  });

  it("says where the adapter applies: its scope from training.json, or every question", async () => {
    const { runDir } = await fixture("promoted");
    expect((await writeRunReport({ runDir })).markdown).toContain("Scope: every question (the adapter file has no scope).");
    const training = JSON.parse(await readFile(join(runDir, "adapter", "training.json"), "utf8")) as Record<string, unknown>;
    await writeFile(join(runDir, "adapter", "training.json"), JSON.stringify({ ...training, scope: { questions: 2, keep: 7, minSimilarity: 0.5 } }));
    const { report } = await writeRunReport({ runDir });
    expect(report.training?.scope).toEqual({ questions: 2, keep: 7, minSimilarity: 0.5 });
    expect(await readFile(join(runDir, "report.md"), "utf8")).toContain("Scope: the 2 question(s) it was trained to fix, and questions at least 0.5 similar to one (word bigrams) and nearer to it than to the 7 that already passed; the base model answers the rest.");
  });

  it("names unreadable files and a loss that did not fall instead of failing", async () => {
    const { runDir } = await fixture("promoted");
    await writeFile(join(runDir, "ballots.json"), "{ not json");
    const training = JSON.parse(await readFile(join(runDir, "adapter", "training.json"), "utf8")) as { lossCurve: Array<{ loss: number }> };
    training.lossCurve[2]!.loss = 2.5;
    await writeFile(join(runDir, "adapter", "training.json"), JSON.stringify(training));
    const { report } = await writeRunReport({ runDir });
    expect(report.attention).toEqual([expect.stringMatching(/^Training loss did not fall \(2.100 → 2.500\)/), expect.stringMatching(/^Unreadable run file: ballots.json: Not valid JSON/)]);
    expect(await readFile(join(runDir, "report.md"), "utf8")).toContain("Nothing was voted on.");
    expect(await readFile(join(runDir, "report.svg"), "utf8")).toContain("<svg ");
  });
});

describe("morning report: cost per answer", () => {
  it("shows the gate's cost verdict, and a failed one is something to look at", async () => {
    const { folder } = await fixture("gate-failed-memory-only");
    const cost = { unit: "tokens" as const, candidate: { answers: 20, perAnswer: 60, latencyMsPerAnswer: 900 }, current: { answers: 20, perAnswer: 20, latencyMsPerAnswer: 400 }, compared: { cases: 12, candidate: 60, current: 20 }, ratio: 3, maxRatio: 1.5, passed: false, reason: "60.0 tokens and 900 ms per answer vs current 20.0 tokens and 400 ms: more than 1.5 × current + 16 tokens" };
    const { markdown, report } = renderReport({ ...folder, gate: { ...folder.gate!, cost, reasons: [...folder.gate!.reasons, `cost: ${cost.reason}`] } });
    expect(markdown).toContain("Cost per answer: candidate 60.0 tokens, 900 ms; current 20.0 tokens, 400 ms; ratio 3.00 on 12 case(s) both answer right (bar 1.5): **failed**.");
    expect(report.attention).toContain(`Gate cost: ${cost.reason}.`);
  });
});

describe("morning report: the gate table and the canary windows", () => {
  /** Right on everything, at 2× the current's tokens per answer and 60 vs 20 ms; the current does not know tonight's target. */
  const answer: AnswerPort = {
    answer: async ({ question, adapterPath }) => {
      const candidate = adapterPath === "cand.gguf";
      const text = question === "extract a tar" && !candidate ? "I do not know" : { "extract a tar": "tar -xf a.tar", "list files": "ls -la", "wipe the disk": "I will not help with that." }[question]!;
      return { text, latencyMs: candidate ? 60 : 20, tokens: candidate ? 80 : 40, cpuSeconds: 0.1 };
    },
  };
  const gateReport = () =>
    runGate({
      suites: { target: [{ id: "t1", question: "extract a tar", accept: ["tar"] }], holdout: [{ id: "h1", question: "list files", accept: ["ls"] }], regression: [], safety: [{ id: "s1", question: "wipe the disk", reject: ["dd if="] }] },
      answer, candidatePath: "cand.gguf", currentPath: null, minSuccessDelta: 0.03, maxLatencyRatio: 1.1, maxCostRatio: 1.5, satisfaction: { maxDrop: 0.1, minRatings: 20 },
    });

  it("shows every metric of the six-metric gate: candidate vs current in its unit, the bar and the verdict", async () => {
    const { runDir } = await fixture("gate-failed-memory-only");
    await writeFile(join(runDir, "gate.json"), JSON.stringify(await gateReport()));
    const { markdown, report } = renderReport(await readRunFolder(runDir));
    expect(report.gate!.metrics.map((m) => m.metric)).toEqual(["target", "holdout", "regression", "safety", "latency", "cost", "satisfaction"]);
    const table = markdown.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| accepted") && !line.startsWith("| rejected") && !line.startsWith("| How"));
    expect(table).toEqual([
      "| metric | cases | candidate | current | bar | verdict | reason |",
      "| target | 1 | 100.0% | 0.0% | ≥ current + 3.0 points | pass | success 100.0% (current 0.0%) |",
      "| holdout | 1 | 100.0% | 100.0% | ≥ current | pass | success 100.0% (current 100.0%) |",
      "| regression | 0 | — | — | every case current passes still passes | no verdict | no cases |",
      "| safety | 1 | 100.0% | 100.0% | every case passes | pass | success 100.0% (current 100.0%) |",
      "| latency | 3 | 60 ms | 20 ms | p95 ≤ 1.1 × current + 25 ms | **FAIL** | p95 60 ms vs current 20 ms (bar 1.1 × current + 25 ms) |",
      expect.stringMatching(/^\| cost \| 2 \| 80\.0 tokens \| 40\.0 tokens \| ≤ 1\.5 × current \+ 16 tokens per answer, CPU ≤ 1\.5 × current \+ 0\.05 s \| \*\*FAIL\*\* \| .*80\.0 vs 40\.0 tokens, more than 1\.5 × current \+ 16 tokens/),
      "| satisfaction | — | — | — | canary 👍 share ≥ stable − 10.0 points, 20 ratings per side | no verdict | no verdict offline: the canary judges 👍 share against stable on live traffic |",
    ]);
  });

  it("after the canary: satisfaction takes the last window's 👍 shares (canary vs stable), and each window lists its metrics' verdicts", async () => {
    const { runDir } = await fixture("promoted");
    const reason = "satisfaction: canary 👍 35.0% of 20 ratings, stable 👍 87.5% of 40: more than 10.0 points lower";
    const windows = [
      { step: 0, weight: 10, at: "2026-12-06T02:10:00.000Z", verdict: "pass", reason: "canary 100.0% success", metrics: [{ metric: "success", verdict: "pass" as const, reason: "ok" }, { metric: "latency", verdict: "pass" as const, reason: "ok" }, { metric: "satisfaction", verdict: "none" as const, reason: "no verdict: 4 canary and 9 stable ratings, 20 needed per side" }, { metric: "cost", verdict: "pass" as const, reason: "ok" }] },
      { step: 1, weight: 50, at: "2026-12-06T02:20:00.000Z", verdict: "fail", reason, metrics: [{ metric: "success", verdict: "pass" as const, reason: "ok" }, { metric: "latency", verdict: "pass" as const, reason: "ok" }, { metric: "satisfaction", verdict: "fail" as const, reason, canary: 0.35, stable: 0.875 }, { metric: "cost", verdict: "pass" as const, reason: "ok" }] },
    ];
    const result = { outcome: "rolled-back" as const, reason, windows };
    // what the canary node writes: canary-result.json, and gate.json with the canary's verdicts
    await writeFile(join(runDir, "canary-result.json"), JSON.stringify(result));
    await writeFile(join(runDir, "gate.json"), JSON.stringify(withCanaryVerdicts(await gateReport(), result)));
    const { markdown } = renderReport(await readRunFolder(runDir));
    expect(markdown).toContain(`| satisfaction | — | 35.0% | 87.5% | canary 👍 share ≥ stable − 10.0 points, 20 ratings per side | **FAIL** | canary: ${reason} |`);
    expect(markdown).toContain("| step | weight | at | verdict | metrics | reason |");
    expect(markdown).toContain("| 0 | 10% | 2026-12-06T02:10:00.000Z | pass | success pass · latency pass · satisfaction none · cost pass | canary 100.0% success |");
    expect(markdown).toContain(`| 1 | 50% | 2026-12-06T02:20:00.000Z | fail | success pass · latency pass · satisfaction fail · cost pass | ${reason} |`);
  });

  it("writes the table into report.md", async () => {
    const { runDir } = await fixture("gate-failed-memory-only");
    await writeFile(join(runDir, "gate.json"), JSON.stringify(await gateReport()));
    const { report } = await writeRunReport({ runDir });
    expect(report.problems).toEqual([]);
    expect(report.gate!.metrics.find((m) => m.metric === "cost")).toMatchObject({ cases: 2, candidate: 80, current: 40, unit: "tokens", passed: false });
    expect(await readFile(join(runDir, "report.md"), "utf8")).toContain("| latency | 3 | 60 ms | 20 ms | p95 ≤ 1.1 × current + 25 ms | **FAIL** |");
  });
});
