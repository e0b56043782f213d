import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";

/** Run folders as the nightly run leaves them (the files the morning report reads), for report tests. */
export type FixtureRun = "promoted" | "gate-failed-memory-only" | "nothing-to-do";

const suite = (name: string, candidate: number, current: number, passed: boolean, reason: string) => ({
  suite: name, total: 10, passedCandidate: candidate * 10, passedCurrent: current * 10, successCandidate: candidate, successCurrent: current, p95LatencyMsCandidate: 120, p95LatencyMsCurrent: 110, passed, reason, failures: [],
});

const items = [
  { id: "h1", question: "How do I list hidden files?", category: "ungrounded", turns: 3, correction: false },
  { id: "h2", question: "How do I extract a tar.gz archive?", category: "ungrounded", turns: 1, correction: true },
  { id: "h3", question: "How do I find large files?", category: "incomplete", turns: 2, correction: false },
];
const candidates = [
  { itemId: "h1", question: items[0]!.question, kind: "failure", candidates: [{ id: "h1-kb", itemId: "h1", text: "Run `ls -la` to list every file, hidden ones included.", source: "knowledge-base" }] },
  { itemId: "h2", question: items[1]!.question, kind: "failure", candidates: [{ id: "h2-c", itemId: "h2", text: "Run `tar -xzf archive.tar.gz`.", source: "correction" }] },
  { itemId: "h3", question: items[2]!.question, kind: "failure", candidates: [{ id: "h3-llm", itemId: "h3", text: "Use `du -a | sort`.", source: "llm" }] },
];
const ballots = [
  { itemId: "h1", accepted: true, winnerId: "h1-kb", winnerScore: 0.91, ballots: [{ candidateId: "h1-kb", voter: "grounding", score: 1, reason: "in the knowledge base" }], reason: "h1-kb accepted with mean score 0.910 ≥ 0.6 from 3 ballots, 3 in support" },
  { itemId: "h2", accepted: true, winnerId: "h2-c", winnerScore: 0.84, ballots: [], reason: "h2-c accepted with mean score 0.840 ≥ 0.6 from 3 ballots, 2 in support" },
  {
    itemId: "h3", accepted: false, winnerId: "h3-llm", winnerScore: 0.2,
    ballots: [{ candidateId: "h3-llm", voter: "intent", score: 0.6, reason: "uses du" }, { candidateId: "h3-llm", voter: "grounding", score: 0, reason: "`du -a | sort` is not in the retrieved knowledge" }],
    reason: "best candidate h3-llm is vetoed by grounding (score < 0.2)",
  },
];

function files(kind: FixtureRun, runId: string): Record<string, unknown> {
  const base = { runId, since: Date.UTC(2026, 11, 5, 2), until: Date.UTC(2026, 11, 6, 2), harvested: 3, accepted: 2, datasetExamples: 2, trainingSeconds: 42.5, finalLoss: 0.4, endedAt: Date.UTC(2026, 11, 6, 3) };
  // What the trainer writes (training/types.ts trainingReportSchema; the report test checks it parses).
  const training = {
    version: 1, trainer: "llamacpp-lora", createdAt: "2026-12-06T02:05:00.000Z",
    adapter: { file: "adapter.gguf", sha256: "a".repeat(64), bytes: 1024 },
    base: { path: "/models/seedling.gguf", sha256: "b".repeat(64) },
    dataset: { path: "/runs/dataset", file: "/runs/dataset/sft.jsonl", sha256: "c".repeat(64), fileSha256: "d".repeat(64), examples: 2 },
    hyperparameters: { rank: 16, alpha: 32, epochs: 3, learningRate: 0.001, targets: ["attn_q"], extra: {} },
    lossCurve: [1, 2, 3].map((epoch) => ({ epoch, loss: [2.1, 1.2, 0.4][epoch - 1], seconds: 14, tokensPerSecond: 90 })),
    stepLosses: [2.3, 1.9, 1.3, 1.1, 0.5, 0.3], durationSeconds: 42.5, trainSeconds: 41, tokensPerSecond: 90, peakRssBytes: 1_000_000, trainableParams: 4096,
  };
  const harvest = { items, rated: 0, filters: [{ name: "holdout", dropped: 1 }, { name: "per-user", dropped: 0 }] };
  if (kind === "nothing-to-do") {
    return { "summary.json": { ...base, outcome: "nothing-to-do", reasons: ["0 failure(s) harvested from 0 failed turn(s); minimum batch is 1"], harvested: 0, accepted: 0, datasetExamples: 0, trainingSeconds: 0, finalLoss: null, version: null, suites: [], memory: null }, "harvest.json": { items: [], rated: 0, filters: [] } };
  }
  if (kind === "promoted") {
    const memory = { candidates: 2, released: 2, dropped: [], release: "v-abc", status: "active" };
    const suites = [suite("target", 1, 0, true, "success 100.0% (current 0.0%)"), suite("holdout", 0.5, 0.5, true, "success 50.0% (current 50.0%)"), suite("regression", 1, 1, true, "success 100.0% (current 100.0%)"), suite("safety", 1, 1, true, "success 100.0% (current 100.0%)")];
    return {
      "summary.json": { ...base, outcome: "promoted", reasons: ["canary v-abc promoted after 3 analysis window(s)"], version: "v-abc", suites, memory },
      "harvest.json": harvest, "candidates.json": candidates, "ballots.json": ballots,
      "memory-gate.json": { kept: [{ question: items[0]!.question, answer: "Run `ls -la`.", source: "agent0" }, { question: items[1]!.question, answer: "Run `tar -xzf archive.tar.gz`.", source: "correction" }], dropped: [], checked: { holdout: 1, regression: 0, safety: 0 } },
      "release.json": { adapter: "adapter v-abc promoted", memory },
      "gate.json": { passed: true, reasons: [], suites, probes: [], current: "base model, through a zero-B twin of the candidate", released: { adapter: true, memory: true, entries: 2 } },
      "adapter/training.json": training, "dataset/manifest.json": { sha256: "ab".repeat(32), counts: { accepted: 2, rated: 0, sft: 2, dpo: 2, kto: 2 } },
      "canary-result.json": {
        outcome: "promoted", reason: "canary v-abc promoted after 3 analysis window(s)",
        windows: [10, 50, 100].map((weight, step) => ({ step, weight, at: new Date(Date.UTC(2026, 11, 6, 2, 10 * (step + 1))).toISOString(), verdict: "pass", reason: `canary 96.0% success, p95 800 ms over ${weight} requests` })),
      },
    };
  }
  const memory = { candidates: 2, released: 1, dropped: [{ question: items[1]!.question, reason: "holdout: the entry answers ho-7 and fails it" }], release: `memory:${runId}`, status: "active" };
  const suites = [suite("target", 0.5, 0.4, false, "success 50.0% < current 40.0% + 15.0%"), suite("holdout", 0.5, 0.5, true, "success 50.0% (current 50.0%)"), suite("regression", 0, 0, true, "no cases"), suite("safety", 1, 1, true, "success 100.0% (current 100.0%)")];
  return {
    "summary.json": { ...base, outcome: "gate-failed", reasons: ["target: success 50.0% < current 40.0% + 15.0%", "verified memory: released 1 entr(ies) on their own gate"], version: null, suites, memory },
    "harvest.json": harvest, "candidates.json": candidates, "ballots.json": ballots,
    "memory-gate.json": { kept: [{ question: items[0]!.question, answer: "Run `ls -la`.", source: "agent0" }], dropped: [{ question: items[1]!.question, answer: "Run `tar -xzf archive.tar.gz`.", reason: "holdout: the entry answers ho-7 and fails it" }], checked: { holdout: 2, regression: 0, safety: 1 } },
    "release.json": { adapter: "memory only (the adapter does not ship tonight)", memory },
    "gate.json": { passed: false, reasons: ["target: success 50.0% < current 40.0% + 15.0%"], suites, probes: [], current: "base model", released: { adapter: false, memory: true, entries: 1 } },
    "adapter/training.json": training, "dataset/manifest.json": { sha256: "cd".repeat(32), counts: { accepted: 2, rated: 0, sft: 2, dpo: 2, kto: 2 } },
  };
}

/** Writes a fixture run into `<runsDir>/<runId>/` and returns the folder. */
export async function writeFixtureRun({ runsDir, runId, kind }: { runsDir: string; runId: string; kind: FixtureRun }): Promise<string> {
  const runDir = join(runsDir, runId);
  for (const [file, content] of Object.entries(files(kind, runId))) {
    await mkdir(join(runDir, file, ".."), { recursive: true });
    await writeFile(join(runDir, file), JSON.stringify(content, null, 2));
  }
  return runDir;
}
