import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import { afterAll, expect, it } from "vitest";
import { dataPaths, loadConfig, PROJECT_ROOT } from "../../core/index.js";
import { createImproveGraph, ImproveStore, runNightly, type ImprovePorts } from "../../graphs/improve/index.js";
import { EventLog, FaissMemory, memoryPaths, withEventLog, type MemoryStore, type TurnRecord } from "../../memory/index.js";
import type { AuditResult, EraseUserResult } from "./audit.js";

const run = promisify(execFile);
const CLI = ["--import", "tsx", join(PROJECT_ROOT, "scripts", "cli.ts")];
const dataDir = mkdtempSync(join(tmpdir(), "council-audit-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
const config = loadConfig({ env: {}, overrides: { dataDir, logLevel: "silent" } });
const council = async <T>(...args: string[]): Promise<T> => JSON.parse((await run(process.execPath, [...CLI, ...args, "--json"], { cwd: PROJECT_ROOT, env: { ...process.env, COUNCIL_DATA_DIR: dataDir } })).stdout) as T;

const ANSWERS: Record<string, string> = {
  "How do I list hidden files": "Run ls -la: it lists hidden files too.",
  "How do I extract a tar archive": "Run tar -xf archive.tar.",
  "How do I reset my password": "Open the account page and choose Reset password.",
  "How do I free disk space": "Run du -sh * to find big folders, then delete what you do not need.",
};

const failed = (traceId: string, userId: string, question: string): TurnRecord => {
  const at = Date.now();
  return { traceId, sessionId: `s-${userId}`, userId, question, answer: "I do not know", route: "helpdesk", model: "seedling", adapter: null, score: 0.1, category: "ungrounded", reasons: ["not grounded"], success: false, feedback: null, latencyMs: 10, tokens: 4, createdAt: at, updatedAt: at };
};

/** The real nightly graph on the real event log and FAISS memory; Agent-0, the vote, training and the canary are fakes. */
function night(memory: MemoryStore, events: EventLog) {
  let versions = readdirSync(dataPaths(config).runs, { withFileTypes: true }).length;
  const ports: ImprovePorts = {
    memory,
    events,
    rewrite: async (item) => [{ id: `${item.id}-kb`, itemId: item.id, text: ANSWERS[item.question] ?? "unknown", source: "knowledge-base" }],
    vote: async (item, candidates) => ({ itemId: item.id, accepted: true, winnerId: candidates[0]!.id, winnerScore: 0.9, ballots: [{ candidateId: candidates[0]!.id, voter: "grounding", score: 0.9, reason: "in the passages" }], reason: "score-weighted mean" }),
    promptMessages: async (question) => [{ role: "user", content: question }],
    train: async ({ outDir }) => {
      mkdirSync(outDir, { recursive: true });
      writeFileSync(join(outDir, "adapter.gguf"), "GGUF");
      writeFileSync(join(outDir, "training.json"), "{}");
      return { finalLoss: 0.4 };
    },
    answer: { answer: async ({ question, adapterPath }) => ({ text: adapterPath ? (ANSWERS[question] ?? "ok") : "I do not know", latencyMs: 10 }) },
    currentAdapterPath: async () => null,
    publish: async () => ({ version: `v-audit-${++versions}` }),
    canary: async () => ({ outcome: "promoted", reason: "canary healthy" }),
    evalSets: { holdout: [], safety: [] },
    probePrompts: [],
  };
  const store = new ImproveStore({ dir: join(dataDir, "data", "improve") });
  const runsDir = dataPaths(config).runs;
  const graph = createImproveGraph({
    ports, store, runsDir, policy: "auto", checkpointer: SqliteSaver.fromConnString(join(dataDir, "checkpoints.sqlite")),
    criticThreshold: 0.5, harvestMinBatch: 1, maxPerUserPerDay: 50, maxUserShare: 1, minSuccessDelta: 0.03, maxLatencyRatio: 1.1, channels: ["adapter"],
  });
  return runNightly({ graph, store, runsDir });
}

it("council audit <version> lists the exact training examples back to their turns, votes and people; erase-user removes a user from log, memory and future datasets", async () => {
  mkdirSync(dataPaths(config).runs, { recursive: true });
  const events = await EventLog.create({ dir: dataPaths(config).events });
  let turns = await FaissMemory.create({ dir: memoryPaths(config).dir });
  let memory = withEventLog(turns, events);
  await memory.record(failed("t-alice", "alice", "How do I list hidden files"));
  await memory.record(failed("t-bob", "bob", "How do I extract a tar archive"));
  await memory.record(failed("t-carol", "carol", "How do I reset my password"));
  await memory.setFeedback("t-carol", { rating: -1, correction: "Use the Reset password link on the account page.", at: Date.now() });
  const first = await night(memory, events);
  expect(first.outcome).toBe("promoted");
  await turns.dispose();

  const audit = await council<AuditResult>("audit", first.version!);
  if (audit.kind !== "version") throw new Error(`expected a version audit, got ${audit.kind}`);
  expect(audit.runId).toBe(first.runId);
  expect(audit.chain.map((event) => event.type)).toEqual(["dataset-built", "training-finished", "gate-judged", "approval-decided", "adapter-deployed", "adapter-promoted"]);
  // The exact examples the adapter was trained on (the run folder's dataset agrees with the log).
  expect(audit.dataset).toMatchObject({ matchesLog: true });
  expect(audit.examples.map((example) => example.id).sort()).toEqual([...audit.dataset!.trainedIds].sort());
  const byPerson = Object.fromEntries(audit.examples.map((example) => [example.people.join(","), example]));
  expect(Object.keys(byPerson).sort()).toEqual(["alice", "bob", "carol"]);
  for (const [person, example] of Object.entries(byPerson)) {
    expect(example.turns.map((event) => event.payload.traceId)).toEqual([`t-${person}`]);
    expect(example.votes.map((event) => [event.actor, event.payload.accepted])).toEqual([["nightly", true]]);
  }
  expect(byPerson.carol!.feedback.map((event) => event.type)).toEqual(["correction-given"]);
  const trace = await council<AuditResult>("audit", "t-bob");
  expect(trace.chain.map((event) => event.type)).toEqual(["turn-recorded", "vote-cast", "dataset-built"]);

  const erased = await council<EraseUserResult>("erase-user", "alice");
  expect(erased).toEqual({ userId: "alice", events: 2, turns: 1, verifiedEntries: 0, acceptedExamples: 1 });
  // Gone from the log (segments rewritten, checksums valid) ...
  const after = await (await EventLog.create({ dir: dataPaths(config).events })).events();
  expect(after.filter((event) => event.actor === "alice" || event.payload.userId === "alice" || event.payload.traceId === "t-alice")).toEqual([]);
  for (const name of readdirSync(dataPaths(config).events)) expect(readFileSync(join(dataPaths(config).events, name), "utf8")).not.toContain('"alice"');
  expect(after.at(-1)).toMatchObject({ type: "user-erased", payload: { removed: 2 } });
  // ... from memory (the FAISS index is rebuilt from the remaining rows) ...
  turns = await FaissMemory.create({ dir: memoryPaths(config).dir });
  memory = withEventLog(turns, events);
  expect((await memory.turns()).map((turn) => turn.userId).sort()).toEqual(["bob", "carol"]);
  expect((await memory.search("How do I list hidden files", { k: 5 })).map((hit) => hit.record.traceId).sort()).toEqual(["t-bob", "t-carol"]);
  expect(readFileSync(join(memoryPaths(config).dir, "memory.sqlite")).includes("hidden files")).toBe(false);
  // ... and from the next night's (cumulative) dataset.
  await memory.record(failed("t-dave", "dave", "How do I free disk space"));
  const second = await night(memory, events);
  expect(second.outcome).toBe("promoted");
  await turns.dispose();
  const next = await council<AuditResult>("audit", second.version!);
  if (next.kind !== "version") throw new Error("expected a version audit");
  expect(next.examples.map((example) => example.people.join(",")).sort()).toEqual(["bob", "carol", "dave"]);
  expect(next.dataset).toMatchObject({ matchesLog: true });
  expect(readFileSync(join(dataPaths(config).runs, second.runId, "dataset", "sft.messages.jsonl"), "utf8")).not.toContain("hidden files");
});
