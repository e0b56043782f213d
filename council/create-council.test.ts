import { describe, expect, it } from "vitest";
import { DEFAULT_TOPICS } from "../agents/index.js";
import { parseGraphSpec } from "../graphs/index.js";
import { CouncilError, createMetrics, loadConfig, Registry } from "../core/index.js";
import { HashEmbeddings } from "../models/embeddings/hash-embeddings.js";
import { FakeChatModel, FakeKnowledgeBase, FakeMemoryStore, type ScriptedTurn } from "../test/fakes/index.js";
import { createCouncil, stableSlotSelector, type SelectAdapter } from "./create-council.js";

const PASSAGES = [{ id: "ls", title: "ls", text: "- List all files, including hidden files:\n\n`ls -a`" }];
const route = { agent: "router", text: '{"route": "files"}', times: Infinity };

async function setup({ turns = [], selectAdapter, onModel, cpuSeconds, historyTurns }: { turns?: ScriptedTurn[]; selectAdapter?: SelectAdapter; onModel?: (m: FakeChatModel) => void; cpuSeconds?: () => number; historyTurns?: number } = {}) {
  const config = loadConfig({ env: {}, overrides: { agents: { router: "auto", critic: "auto", criticThreshold: 0.5, maxRevisions: 1 } } });
  const chatModel = new FakeChatModel({ turns: [route, ...turns], modelName: "fake-seedling" });
  onModel?.(chatModel);
  const memory = new FakeMemoryStore();
  const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
  let id = 0;
  let clock = 1_000_000;
  const council = await createCouncil({
    config,
    chatModel,
    embeddings: new HashEmbeddings({ dimensions: 128 }),
    memory,
    knowledgeBase: new FakeKnowledgeBase(PASSAGES),
    metrics,
    topics: DEFAULT_TOPICS,
    now: () => (clock += 5),
    generateId: () => `trace-${++id}`,
    ...(selectAdapter ? { selectAdapter } : {}),
    ...(cpuSeconds ? { cpuSeconds } : {}),
    ...(historyTurns === undefined ? {} : { spec: parseGraphSpec({ recall: { history: historyTurns } }) }),
  });
  return { council, chatModel, memory, metrics };
}

const value = async (metrics: ReturnType<typeof createMetrics>, name: string) => (await metrics.registry.getSingleMetric(name)?.get())?.values ?? [];

describe("createCouncil", () => {
  it("runs a turn: streams tokens, returns the final result, records memory and metrics", async () => {
    const { council, memory, metrics, chatModel } = await setup({
      turns: [{ agent: "answerer", text: "Run `ls -a`." }, { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}' }],
      selectAdapter: () => ({ slot: "canary", version: "v2abc" }),
    });
    const tokens: string[] = [];
    const result = await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "How do I list hidden files?", onToken: (t) => tokens.push(t) });
    expect(tokens.join("")).toBe("Run `ls -a`.");
    expect(result).toMatchObject({ traceId: "trace-1", answer: "Run `ls -a`.", score: 0.9, success: true, route: "files", adapter: "v2abc", category: null, tokens: 3, revisions: 0 });
    expect(result.steps!.map((s) => s.agent)).toEqual(["router", "answerer", "critic"]);
    expect(chatModel.callsOf("answerer")[0]!.adapter).toBe("canary");
    expect(await council.trace("trace-1")).toMatchObject({ userId: "alice", adapter: "v2abc", model: "fake-seedling", success: true, createdAt: expect.any(Number) });
    expect(await memory.get("trace-1")).toBeDefined();
    expect(await value(metrics, "council_requests_total")).toEqual([{ labels: { route: "files", adapter: "v2abc", outcome: "success" }, value: 1 }]);
    expect(await value(metrics, "council_tokens_generated_total")).toEqual([{ labels: { adapter: "v2abc" }, value: 3 }]);
    expect((await value(metrics, "council_memory_entries")).find((v) => v.labels.success === "true")?.value).toBe(1);
    const ttft = await value(metrics, "council_time_to_first_token_seconds");
    expect(ttft.find((v) => (v as { metricName?: string }).metricName === "council_time_to_first_token_seconds_count")?.value).toBe(1);
    const score = await value(metrics, "council_critic_score");
    expect(score.find((v) => (v as { metricName?: string }).metricName === "council_critic_score_sum")?.value).toBeCloseTo(0.9);
  });

  it("a question outside the routed adapter's scope is answered by the base model and counted for that release", async () => {
    const { council, metrics, chatModel } = await setup({
      turns: [{ agent: "answerer", text: "Run `ls -a`." }, { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}' }],
      selectAdapter: () => ({ slot: "canary", version: "v2abc", outsideScope: true }),
    });
    const result = await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "How do I list hidden files?" });
    expect(chatModel.callsOf("answerer")[0]!.adapter ?? null).toBeNull();
    expect(result).toMatchObject({ adapter: null, source: { kind: "model", adapter: null } });
    expect(await value(metrics, "council_requests_total")).toEqual([{ labels: { route: "files", adapter: "v2abc", outcome: "success" }, value: 1 }]);
  });

  it("counts each turn's CPU seconds and each rating under the adapter that answered (the canary's cost and 👍 share)", async () => {
    let cpu = 10;
    const adapters = [{ slot: "canary", version: "v2abc" }, null];
    const { council, metrics } = await setup({
      turns: [{ agent: "answerer", text: "Run `ls -a`.", times: 2 }, { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}', times: 2 }],
      selectAdapter: () => adapters.shift() ?? null,
      // every read of the CPU clock advances it by 0.25 s: one turn = 0.25 s between its two reads
      cpuSeconds: () => (cpu += 0.25),
    });
    const first = await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "How do I list hidden files?" });
    const second = await council.turn({ id: "r2", sessionId: "s2", userId: "bob", text: "How do I list hidden files?" });
    expect(await value(metrics, "council_answer_cpu_seconds_total")).toEqual([
      { labels: { adapter: "v2abc" }, value: 0.25 },
      { labels: { adapter: "base" }, value: 0.25 },
    ]);
    await council.feedback({ traceId: first.traceId, rating: -1 });
    await council.feedback({ traceId: second.traceId, rating: 1 });
    expect(await value(metrics, "council_feedback_total")).toEqual([
      { labels: { rating: "down", adapter: "v2abc" }, value: 1 },
      { labels: { rating: "up", adapter: "base" }, value: 1 },
    ]);
  });

  it("answers on the current selection when the selected slot was unloaded before generation (rollback race)", async () => {
    const selections = [{ slot: "canary", version: "v2bad" }, { slot: "stable", version: "v1" }];
    const { council, chatModel, metrics } = await setup({
      turns: [
        { agent: "answerer", when: (call) => call.adapter === "canary", error: new CouncilError("ADAPTER_NOT_FOUND", 'No adapter is loaded in slot "canary".') },
        { agent: "answerer", text: "Run `ls -a`." },
        { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}' },
      ],
      selectAdapter: () => selections.shift() ?? null,
    });
    const result = await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "How do I list hidden files?" });
    expect(result).toMatchObject({ answer: "Run `ls -a`.", adapter: "v1", success: true });
    expect(chatModel.callsOf("answerer").map((call) => call.adapter)).toEqual(["canary", "stable"]);
    expect(await value(metrics, "council_requests_total")).toEqual([{ labels: { route: "files", adapter: "v1", outcome: "success" }, value: 1 }]);
  });

  it("holds the selected slot for the whole turn: a canary unloaded after the answer streamed still serves the revision", async () => {
    let released = 0;
    const lease = { slot: "canary#lease-1", version: "v2", release: () => released++ };
    const { council, chatModel } = await setup({
      turns: [
        { agent: "answerer", text: "Use dir." },
        { agent: "critic", when: (call) => call.lastMessage.includes("Use dir."), text: '{"score": 0.1, "category": "ungrounded", "reasons": ["no"]}' },
        // By the revision (also the answerer agent) the canary slot was unloaded (a rollback): by name it is gone.
        { agent: "answerer", when: (call) => call.adapter === "canary", error: new CouncilError("ADAPTER_NOT_FOUND", 'No adapter is loaded in slot "canary".') },
        { agent: "answerer", when: (call) => call.adapter === lease.slot, text: "Run `ls -a`." },
        { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": ["grounded"]}' },
      ],
      selectAdapter: () => ({ slot: "canary", version: "v2" }),
      onModel: (model) => Object.assign(model, { leaseAdapter: (slot: string) => (slot === "canary" ? lease : undefined) }),
    });
    const tokens: string[] = [];
    const result = await council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?", onToken: (token) => tokens.push(token) });
    expect(tokens.join("")).toContain("Use dir.");
    expect(result).toMatchObject({ answer: "Run `ls -a`.", adapter: "v2", success: true, revisions: 1 });
    expect(chatModel.callsOf("answerer").map((call) => call.adapter)).toEqual([lease.slot, lease.slot]);
    expect(released).toBe(1);
  });

  it("does not retry a base-model turn (no slot to lose)", async () => {
    const { council } = await setup({ turns: [{ agent: "answerer", error: new CouncilError("ADAPTER_NOT_FOUND", "gone") }] });
    await expect(council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" })).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
  });

  it("records a failing turn as a failure with outcome=failure", async () => {
    const { council, memory, metrics } = await setup({
      turns: [{ agent: "answerer", text: "Use dir.", times: 2 }, { agent: "critic", text: '{"score": 0.1, "category": "ungrounded", "reasons": ["no"]}', times: 2 }],
    });
    const result = await council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" });
    expect(result).toMatchObject({ success: false, category: "ungrounded", revisions: 1, adapter: null });
    expect((await memory.failures()).map((r) => r.traceId)).toEqual(["trace-1"]);
    expect(await value(metrics, "council_requests_total")).toEqual([{ labels: { route: "files", adapter: "base", outcome: "failure" }, value: 1 }]);
  });

  it("sends no session history by default (the seedling and its adapters are trained on single-turn prompts)", async () => {
    const { council, chatModel } = await setup({
      turns: [
        { agent: "answerer", text: "Run `ls -a`.", times: 2 },
        { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": []}', times: 2 },
      ],
    });
    await council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" });
    await council.turn({ id: "r2", sessionId: "s1", text: "How do I extract a tar.gz archive?" });
    expect(chatModel.callsOf("answerer")[1]!.messages.map((m) => m.getType())).toEqual(["system", "human"]);
  });

  it("keeps session history and sends it with the next question when the spec asks for it", async () => {
    const { council, chatModel } = await setup({
      historyTurns: 2,
      turns: [
        { agent: "answerer", text: "Run `ls -a`." },
        { agent: "answerer", when: (c) => c.text.includes("Run `ls -a`."), text: "Add -l for details: `ls -la`." },
        { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": []}', times: 2 },
      ],
    });
    await council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" });
    await council.turn({ id: "r2", sessionId: "s1", text: "And with details?" });
    const second = chatModel.callsOf("answerer")[1]!.messages.map((m) => m.getType());
    expect(second).toEqual(["system", "human", "ai", "human"]);
  });

  it("keeps session history per user: another user sending the same session id does not see it", async () => {
    const { council, chatModel } = await setup({
      historyTurns: 2,
      turns: [
        { agent: "answerer", text: "Run `ls -a`.", times: 3 },
        { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": []}', times: 3 },
      ],
    });
    await council.turn({ id: "r1", sessionId: "s1", userId: "alice", text: "My password is hunter2. How do I list hidden files?" });
    await council.turn({ id: "r2", sessionId: "s1", userId: "bob", text: "What did I just say?" });
    await council.turn({ id: "r3", sessionId: "s1", userId: "alice", text: "And with details?" });
    const [, bob, alice] = chatModel.callsOf("answerer");
    expect(bob!.messages.map((m) => m.getType())).toEqual(["system", "human"]);
    expect(JSON.stringify(bob!.messages.map((m) => m.content))).not.toContain("hunter2");
    expect(alice!.messages.map((m) => m.getType())).toEqual(["system", "human", "ai", "human"]);
  });

  it("feedback flips success in memory and counts the rating", async () => {
    const { council, metrics } = await setup({
      turns: [{ agent: "answerer", text: "Run `ls -a`." }, { agent: "critic", text: '{"score": 0.9, "category": null, "reasons": []}' }],
    });
    await council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" });
    const record = await council.feedback({ traceId: "trace-1", rating: -1, correction: "ls -A" });
    expect(record).toMatchObject({ success: false, feedback: { rating: -1, correction: "ls -A", at: expect.any(Number) } });
    expect(await value(metrics, "council_feedback_total")).toEqual([{ labels: { rating: "down", adapter: "base" }, value: 1 }]);
    expect((await value(metrics, "council_memory_entries")).find((v) => v.labels.success === "false")?.value).toBe(1);
  });

  it("rejects bad input with typed errors and leaves memory unchanged", async () => {
    const { council, memory } = await setup();
    await expect(council.turn({ id: "r1", sessionId: "s1", text: "   " })).rejects.toMatchObject({ code: "FRAME_INVALID", message: expect.stringMatching(/empty/) });
    await expect(council.turn({ id: "r1", sessionId: "s1", text: "x".repeat(5000) })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    await expect(council.feedback({ traceId: "nope", rating: 1 })).rejects.toMatchObject({ code: "TRACE_NOT_FOUND" });
    await expect(council.feedback({ traceId: "t", rating: 5 as 1 })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    expect(memory.counts().total).toBe(0);
  });

  it("a model failure is an error outcome, typed, and records nothing", async () => {
    const { council, memory, metrics } = await setup({ turns: [{ agent: "answerer", error: new Error("context exploded") }] });
    await expect(council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?" })).rejects.toMatchObject({ code: "INTERNAL", message: expect.stringMatching(/context exploded/) });
    expect(memory.counts().total).toBe(0);
    expect(await value(metrics, "council_requests_total")).toEqual([{ labels: { route: "none", adapter: "base", outcome: "error" }, value: 1 }]);
  });

  it("a cancelled turn is CANCELLED", async () => {
    const { council } = await setup({ turns: [{ agent: "answerer", text: "a b" }] });
    const controller = new AbortController();
    controller.abort();
    await expect(council.turn({ id: "r1", sessionId: "s1", text: "How do I list hidden files?", signal: controller.signal })).rejects.toMatchObject({ code: "CANCELLED" });
  });

  it("dispose releases owned resources once and stops serving", async () => {
    const { council } = await setup();
    expect(council.ready()).toBe(true);
    await council.dispose();
    expect(council.ready()).toBe(false);
    await expect(council.turn({ id: "r", sessionId: "s", text: "hi" })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });
});

describe("stableSlotSelector", () => {
  it("picks the stable slot when loaded, else the base model", () => {
    const slots: Array<{ slot: string; version: string; path: string; scale: number }> = [];
    const select = stableSlotSelector({ adapters: () => slots });
    expect(select({ userId: null, sessionId: "s", question: "q" })).toBeNull();
    slots.push({ slot: "stable", version: "abc", path: "/x", scale: 1 });
    expect(select({ userId: null, sessionId: "s", question: "q" })).toEqual({ slot: "stable", version: "abc" });
    expect(stableSlotSelector({})({ userId: null, sessionId: "s", question: "q" })).toBeNull();
  });
});
