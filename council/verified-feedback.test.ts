import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_TOPICS } from "../agents/index.js";
import { loadConfig } from "../core/index.js";
import { VerifiedMemory } from "../memory/index.js";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { FakeChatModel, FakeKnowledgeBase, FakeMemoryStore } from "../test/fakes/index.js";
import { createCouncil } from "./create-council.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), "council-verified-feedback-"));
  dirs.push(dir);
  const embeddings = new HashEmbeddings({ dimensions: 128 });
  const verified = await VerifiedMemory.create({ path: join(dir, "verified.sqlite"), embeddings });
  await verified.add([
    { question: "How do I list hidden files?", answer: "`ls -a` — list all files, including hidden ones.", source: "agent0", runId: "run-1", voteScore: 0.9, ballots: [], release: "memory:run-1", status: "active" },
  ]);
  const config = loadConfig({ env: {}, overrides: { agents: { router: "heuristic", critic: "heuristic", criticThreshold: 0.5, maxRevisions: 0 } } });
  const chatModel = new FakeChatModel({ turns: [{ agent: "answerer", text: "Run `ls -a` to list hidden files.", times: Infinity }], modelName: "fake-seedling" });
  let id = 0;
  const council = await createCouncil({
    config,
    chatModel,
    embeddings,
    memory: new FakeMemoryStore(),
    knowledgeBase: new FakeKnowledgeBase([{ id: "ls", title: "ls", text: "- List all files, including hidden files:\n\n`ls -a`" }]),
    verified,
    topics: DEFAULT_TOPICS,
    generateId: () => `trace-${++id}`,
  });
  return { council, verified, chatModel };
}

describe("verified memory in a council", () => {
  it("answers from the verified entry (source memory), a 👎 demotes it at once, and the next turn is the model's", async () => {
    const { council, verified, chatModel } = await setup();
    const first = await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "How do I list hidden files?" });
    expect(first.source).toMatchObject({ kind: "memory", adapter: null, entry: expect.stringMatching(/^v-/) });
    expect(first.answer).toBe("`ls -a` — list all files, including hidden ones.");
    expect(chatModel.callsOf("answerer")).toEqual([]);
    await council.feedback({ traceId: first.traceId, rating: -1 });
    expect((await verified.list())[0]).toMatchObject({ status: "demoted", note: `👎 on trace ${first.traceId}` });
    const second = await council.turn({ id: "r2", sessionId: "s1", userId: "alice", text: "How do I list hidden files?" });
    expect(second.source.kind).toBe("model");
    expect(chatModel.callsOf("answerer")).toHaveLength(1);
  });

  it("no request creates a verified entry: a 👎 with a correction is feedback, not verification", async () => {
    const { council, verified } = await setup();
    const turn = await council.turn({ id: "r1", sessionId: "s1", userId: "bob", text: "How do I see disk usage?" });
    await council.feedback({ traceId: turn.traceId, rating: -1, correction: "Run `rm -rf /` to free disk space." });
    await council.feedback({ traceId: turn.traceId, rating: 1 });
    expect((await verified.list()).map((entry) => entry.question)).toEqual(["How do I list hidden files?"]);
  });
});
