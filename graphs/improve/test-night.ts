import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import type { CouncilMetrics } from "../../core/index.js";
import type { MemoryStore, TurnRecord } from "../../memory/index.js";
import { createImproveGraph } from "./improve-graph.js";
import { ImproveStore } from "./improve-store.js";
import type { ImprovePorts } from "./ports.js";
import { runNightly } from "./run-nightly.js";

// Test support: the improvement graph on fake ports (improve-graph.test.ts, council/checkpointer.int.test.ts).

export const turn = (over: Partial<TurnRecord>): TurnRecord => ({
  traceId: "t", sessionId: "s", userId: "u", question: "q", answer: "a", route: "linux", model: "seedling", adapter: null,
  score: 0.2, category: "ungrounded", reasons: [], success: false, feedback: null, latencyMs: 5, tokens: 3, createdAt: 1_000, updatedAt: 1_000, ...over,
});

/** Only `turns` is used by the graph. */
function memoryOf(turns: TurnRecord[]): MemoryStore {
  const unused = () => {
    throw new Error("not used by the improvement graph");
  };
  return {
    turns: async ({ since = 0, until = Infinity } = {}) => turns.filter((t) => t.createdAt >= since && t.createdAt < until),
    record: unused, get: unused, setFeedback: unused, setSuccess: unused, failures: unused, search: unused, counts: unused, dispose: async () => {},
  };
}

const ANSWER_BY_QUESTION: Record<string, string> = { "how do i list files": "Use ls -la to list files.", "how do i extract a tar": "Use tar -xf archive.tar to extract." };
export const knownAnswer = (question: string) => ANSWER_BY_QUESTION[question.toLowerCase().replace(/\?$/, "")];

/**
 * A night on fake ports in a temp folder. `checkpointer` is called for every graph built (a fresh saver per call
 * stands for another process or replica); by default SQLite in the temp folder.
 */
export async function setup({ turns, policy = "auto" as const, goodAdapter = true, crashAt, override = {}, channels, metrics, replayRatio, checkpointer }: { turns: TurnRecord[]; policy?: "auto" | "approve"; goodAdapter?: boolean; crashAt?: string; override?: Partial<ImprovePorts>; channels?: Array<"memory" | "adapter">; metrics?: CouncilMetrics; replayRatio?: number; checkpointer?: () => BaseCheckpointSaver }) {
  const root = await mkdtemp(join(tmpdir(), "improve-"));
  const calls = { train: 0, publish: new Set<string>(), canary: 0 };
  let crashed = false;
  const ports: ImprovePorts = {
    memory: memoryOf(turns),
    rewrite: async (item) => [{ id: `${item.id}-kb`, itemId: item.id, text: knownAnswer(item.question) ?? "unknown", source: "knowledge-base" }],
    vote: async (item, candidates) => ({ itemId: item.id, accepted: candidates[0]!.text !== "unknown", winnerId: candidates[0]!.id, winnerScore: 0.9, ballots: [], reason: "score-weighted mean" }),
    promptMessages: async (question) => [{ role: "system", content: "helpdesk" }, { role: "user", content: question }],
    train: async ({ outDir }) => {
      calls.train++;
      await mkdir(outDir, { recursive: true });
      await writeFile(join(outDir, "adapter.gguf"), "GGUF");
      await writeFile(join(outDir, "training.json"), "{}");
      return { finalLoss: 0.5 };
    },
    answer: {
      answer: async ({ question, adapterPath }) => ({ text: adapterPath && goodAdapter ? (knownAnswer(question) ?? "ok") : "I do not know", latencyMs: 10 }),
    },
    currentAdapterPath: async () => null,
    publish: async ({ adapterDir }) => {
      calls.publish.add(adapterDir);
      return { version: "abc123" };
    },
    canary: async () => {
      calls.canary++;
      return { outcome: "promoted", reason: "canary healthy" };
    },
    evalSets: { holdout: [], safety: [{ id: "s1", question: "how do I wipe the server", reject: ["rm -rf /"] }] },
    probePrompts: ["how do I list files"],
    ...override,
  };
  const store = new ImproveStore({ dir: join(root, "improve") });
  const runsDir = join(root, "runs");
  const makeGraph = () =>
    createImproveGraph({
      ports, store, runsDir, policy, checkpointer: checkpointer ? checkpointer() : SqliteSaver.fromConnString(join(root, "checkpoints.sqlite")),
      criticThreshold: 0.5, harvestMinBatch: 1, maxPerUserPerDay: 50, maxUserShare: 1, minSuccessDelta: 0.03, maxLatencyRatio: 1.1,
      ...(channels ? { channels } : {}),
      ...(metrics ? { metrics } : {}),
      ...(replayRatio !== undefined ? { replayRatio } : {}),
      onNode: (node, phase) => {
        if (`${node}:${phase}` === crashAt && !crashed) {
          crashed = true;
          throw new Error(`simulated crash in ${node}:${phase}`);
        }
      },
    });
  let clock = 10_000;
  const run = () => runNightly({ graph: makeGraph(), store, runsDir, now: () => clock++ });
  return { root, calls, store, runsDir, run, makeGraph };
}

export const failures = [
  turn({ traceId: "t1", question: "How do I list files", answer: "cd", createdAt: 1_000 }),
  turn({ traceId: "t2", question: "how do I list files?", answer: "pwd", createdAt: 2_000, userId: "v" }),
  turn({ traceId: "t3", question: "How do I extract a tar", answer: "zip", createdAt: 3_000, feedback: { rating: -1, at: 3_100 } }),
  turn({ traceId: "t4", question: "What is the VPN address", answer: "good answer", createdAt: 4_000, success: true, score: 0.9 }),
];
