import { describe, expect, it } from "vitest";
import { drawChatGraph } from "./chat-graph.js";
import { parseGraphSpec } from "./graph-spec.js";
import { testGraph, turnInput } from "./test-council.js";

const route = (name: string) => ({ agent: "router", text: `{"route": "${name}"}` });
const review = (score: number, category: string | null = null, reasons: string[] = []) => ({
  agent: "critic",
  text: JSON.stringify({ score, category, reasons }),
});

describe("chat graph", () => {
  it("good answer: route → recall → answer (streamed) → critique → recorded as success", async () => {
    const { graph, memory, model } = await testGraph({
      turns: [route("files"), { agent: "answerer", text: "Run `ls -a` to list hidden files." }, review(0.9)],
    });
    const tokens: string[] = [];
    const state = await graph.run(turnInput("How do I list hidden files?", { adapter: { slot: "stable", version: "abc123" } }), { onToken: (t) => tokens.push(t) });
    expect(tokens.join("")).toBe("Run `ls -a` to list hidden files.");
    expect(state).toMatchObject({ route: "files", answer: "Run `ls -a` to list hidden files.", revisions: 0, attempts: [] });
    expect(state.passages.map((hit) => hit.passage.id)).toContain("ls");
    expect(state.steps.map((s) => `${s.agent}:${s.method}`)).toEqual(["router:llm", "answerer:llm", "critic:llm"]);
    expect(model.callsOf("answerer")[0]!.adapter).toBe("stable");
    const record = await memory.get("t-1");
    expect(record).toMatchObject({ success: true, score: 0.9, category: null, route: "files", model: "fake-seedling", adapter: "abc123", tokens: 7, userId: "u-1" });
    expect(record!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(model.pending()).toEqual([]);
  });

  it("bad answer → revise → pass: the revised answer is recorded as success", async () => {
    const { graph, memory, model } = await testGraph({
      turns: [
        route("files"),
        { agent: "answerer", when: (c) => !c.text.includes("rejected"), text: "Use the dir command." },
        review(0.2, "ungrounded", ["dir is not in the knowledge base"]),
        { agent: "answerer", when: (c) => c.text.includes("dir is not in the knowledge base"), text: "Run `ls -a`." },
        review(0.8),
      ],
    });
    const revisions: number[] = [];
    const tokens: string[] = [];
    const state = await graph.run(turnInput("How do I list hidden files?"), { onToken: (t) => tokens.push(t), onRevise: ({ attempt }) => revisions.push(attempt) });
    expect(state).toMatchObject({ answer: "Run `ls -a`.", revisions: 1 });
    expect(state.attempts).toEqual([{ answer: "Use the dir command.", score: 0.2, category: "ungrounded", reasons: ["dir is not in the knowledge base"] }]);
    expect(revisions).toEqual([1]);
    expect(tokens.join("")).toBe("Use the dir command.Run `ls -a`.");
    expect(await memory.get("t-1")).toMatchObject({ success: true, answer: "Run `ls -a`.", score: 0.8, tokens: 7 });
    expect(model.pending()).toEqual([]);
  });

  it("still bad after the bounded revisions → recorded as a failure with its category", async () => {
    const { graph, memory, model } = await testGraph({
      maxRevisions: 2,
      turns: [
        route("files"),
        { agent: "answerer", text: "Use dir.", times: 3 },
        review(0.1, "ungrounded", ["no"]),
        review(0.2, "ungrounded", ["still no"]),
        review(0.3, "incomplete", ["nope"]),
      ],
    });
    const tokens: string[] = [];
    const state = await graph.run(turnInput("How do I list hidden files?"), { onToken: (t) => tokens.push(t) });
    expect(state.revisions).toBe(2);
    expect(state.attempts.map((a) => a.score)).toEqual([0.1, 0.2]);
    expect(tokens.join("")).toBe("Use dir.");
    expect(await memory.failures()).toMatchObject([{ traceId: "t-1", success: false, score: 0.3, category: "incomplete", reasons: ["nope"] }]);
    expect(model.callsOf("critic")).toHaveLength(3);
  });

  it("auto mode: router and critic fall back to heuristics on invalid JSON, and the steps say so", async () => {
    const { graph, memory } = await testGraph({
      turns: [
        { agent: "router", text: "files, I think" },
        { agent: "answerer", text: "List all files, including hidden files, with `ls -a`." },
        { agent: "critic", text: '{"score": "high"}' },
      ],
    });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.route).toBe("files");
    expect(state.steps.filter((s) => s.agent !== "answerer")).toEqual([
      { agent: "router", method: "heuristic", fallback: expect.stringMatching(/not a JSON object/), ms: expect.any(Number) },
      { agent: "critic", method: "heuristic", fallback: expect.stringMatching(/score/), ms: expect.any(Number) },
    ]);
    expect(await memory.get("t-1")).toMatchObject({ success: true, category: null });
  });

  it("heuristic mode never asks the model to route or review", async () => {
    const { graph, model } = await testGraph({ modes: { router: "heuristic", critic: "heuristic" }, turns: [{ agent: "answerer", text: "Bananas are yellow." }, { agent: "answerer", text: "Bananas again." }] });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(model.calls.map((c) => c.agent)).toEqual(["answerer", "answerer"]);
    expect(state.recorded).toMatchObject({ success: false });
  });

  it("llm mode: invalid structured output fails the turn and records nothing", async () => {
    const { graph, memory } = await testGraph({ modes: { router: "llm" }, turns: [{ agent: "router", text: "files" }] });
    await expect(graph.run(turnInput("How do I list hidden files?"))).rejects.toMatchObject({ code: "STRUCTURED_OUTPUT_INVALID" });
    expect(memory.counts().total).toBe(0);
  });

  it("a spec swaps nodes without code: kb-grounded answer, no revise, fixed route, no memory recall", async () => {
    const { graph, memory, model } = await testGraph({
      modes: { critic: "heuristic" },
      spec: { nodes: { router: "general", answerer: "kb-grounded", revise: "none", recall: "kb" } },
    });
    const tokens: string[] = [];
    const state = await graph.run(turnInput("How do I list hidden files?"), { onToken: (t) => tokens.push(t) });
    expect(state.answer).toBe("`ls -a` — list all files, including hidden files.");
    expect(tokens).toEqual([state.answer]);
    expect(state.route).toBe("general");
    expect(model.calls).toHaveLength(0);
    expect(await memory.get("t-1")).toMatchObject({ success: true });
  });

  it("revise: none records a failing first answer without retrying", async () => {
    const { graph, memory } = await testGraph({ spec: { nodes: { revise: "none" } }, turns: [route("files"), { agent: "answerer", text: "Use dir." }, review(0.1, "ungrounded")] });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.revisions).toBe(0);
    expect(await memory.get("t-1")).toMatchObject({ success: false, category: "ungrounded" });
  });

  it("a spec's prompt overrides reach the model, and its threshold decides success", async () => {
    const { graph, model, memory } = await testGraph({
      spec: { criticThreshold: 0.95, maxRevisions: 0, prompts: { router: "Pick one of:\n{topics}\nJSON only." } },
      turns: [route("files"), { agent: "answerer", text: "Run `ls -a`." }, review(0.9)],
    });
    await graph.run(turnInput("How do I list hidden files?"));
    expect(model.callsOf("router")[0]!.messages[0]!.text).toMatch(/^Pick one of:\n- network:/);
    expect(await memory.get("t-1")).toMatchObject({ success: false, score: 0.9 });
  });

  it("kb-grounded revise replaces an ungrounded answer with the knowledge-base one", async () => {
    const { graph, memory } = await testGraph({
      modes: { router: "heuristic", critic: "heuristic" },
      spec: { nodes: { revise: "kb-grounded" } },
      turns: [{ agent: "answerer", text: "Bananas are yellow fruits." }],
    });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.answer).toBe("`ls -a` — list all files, including hidden files.");
    expect(state.attempts[0]!.answer).toBe("Bananas are yellow fruits.");
    expect(await memory.get("t-1")).toMatchObject({ success: true });
  });

  it("the critic checks the draft's command against the notes unless the spec turns it off", async () => {
    const draft = "`sudo Listing hidden files` — list hidden files.";
    const run = async (spec: Record<string, unknown>) => {
      const { graph, memory } = await testGraph({ modes: { router: "heuristic", critic: "heuristic" }, spec: { maxRevisions: 0, ...spec }, turns: [{ agent: "answerer", text: draft }] });
      const state = await graph.run(turnInput("How do I list hidden files?"));
      return { state, record: await memory.get("t-1") };
    };
    const grounded = await run({});
    expect(grounded.record).toMatchObject({ success: false, category: "ungrounded" });
    expect(grounded.state.critique!.reasons.at(-1)).toMatch(/`Listing` is not a command the retrieved notes use/);
    const wordsOnly = await run({ groundCommands: false });
    expect(wordsOnly.record).toMatchObject({ success: true });
  });

  it("an aborted turn stops and records nothing", async () => {
    const { graph, memory } = await testGraph({ turns: [route("files"), { agent: "answerer", text: "a b c" }, review(0.9)] });
    const controller = new AbortController();
    controller.abort();
    await expect(graph.run(turnInput("How do I list hidden files?"), { signal: controller.signal })).rejects.toThrow();
    expect(memory.counts().total).toBe(0);
  });
});

describe("graph spec and drawing", () => {
  it("draws the default graph as Mermaid with the amend step and the revise loop", async () => {
    const mermaid = await drawChatGraph();
    for (const node of ["router", "recall", "answerer", "amend", "critic", "revise", "record"]) expect(mermaid).toContain(node);
    expect(mermaid).toMatch(/answerer --> amend/);
    expect(mermaid).toMatch(/amend --> critic/);
    expect(mermaid).toMatch(/critic -.->\s*revise/);
    expect(mermaid).toMatch(/revise --> amend/);
  });

  it("draws a spec without the amend step: drafts go straight to the critic", async () => {
    const mermaid = await drawChatGraph(parseGraphSpec({ nodes: { amend: "none" } }));
    expect(mermaid).not.toContain("amend");
    expect(mermaid).toMatch(/answerer --> critic/);
    expect(mermaid).toMatch(/revise --> critic/);
  });

  it("draws a spec without revise", async () => {
    const mermaid = await drawChatGraph(parseGraphSpec({ nodes: { revise: "none" } }));
    expect(mermaid).not.toContain("revise");
    expect(mermaid).toMatch(/critic --> record/);
  });

  it("rejects unknown node implementations and keys, naming the field", () => {
    expect(() => parseGraphSpec({ nodes: { answerer: "gpt5" } })).toThrow(/nodes\.answerer/);
    expect(() => parseGraphSpec({ colour: "red" })).toThrow(/Unrecognized key/);
    expect(() => parseGraphSpec({ maxRevisions: 9 })).toThrow(/maxRevisions/);
  });
});
