import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { VerifiedMemory, type VerifiedEntryInput } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/embeddings/hash-embeddings.js";
import { FakeKnowledgeBase } from "../../test/fakes/index.js";
import { testGraph, turnInput } from "./test-council.js";

const route = (name: string) => ({ agent: "router", text: `{"route": "${name}"}` });
const review = (score: number, category: string | null = null, reasons: string[] = []) => ({ agent: "critic", text: JSON.stringify({ score, category, reasons }) });

const dirs: string[] = [];
async function verifiedWith(entries: VerifiedEntryInput[]): Promise<VerifiedMemory> {
  const dir = mkdtempSync(join(tmpdir(), "council-verified-graph-"));
  dirs.push(dir);
  const memory = await VerifiedMemory.create({ path: join(dir, "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 256 }) });
  await memory.add(entries);
  return memory;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const entry = (overrides: Partial<VerifiedEntryInput> = {}): VerifiedEntryInput => ({
  question: "How do I list hidden files?",
  answer: "`ls -a` — list all files, including hidden files.",
  source: "agent0",
  runId: "run-1",
  voteScore: 0.9,
  ballots: [{ voter: "critic", score: 0.9, reason: "ok" }],
  release: "memory:run-1",
  status: "active",
  ...overrides,
});

describe("never deliver a failed answer", () => {
  it("critic fails the draft after the revisions → the user gets the grounded knowledge-base answer with its page; the draft is recorded as the failure", async () => {
    const { graph, memory } = await testGraph({
      maxRevisions: 0,
      turns: [route("files"), { agent: "answerer", text: "- `sudo the when.\n- `sudo the when." }, review(0.0, "ungrounded", ["gibberish"])],
    });
    const state = await graph.run(turnInput("How do I list all files, including hidden files?"));
    expect(state.source).toEqual({ kind: "fallback", adapter: null, page: "ls" });
    expect(state.delivered).toBe("From the ls page: `ls -a` — list all files, including hidden files.");
    expect(state.delivered).not.toContain("sudo the when");
    const record = await memory.get("t-1");
    expect(record).toMatchObject({ success: false });
    expect(record!.answer).toContain("sudo the when");
  });

  it("nothing in the notes → an honest I don't know, never the draft", async () => {
    const { graph } = await testGraph({ maxRevisions: 0, turns: [route("general"), { agent: "answerer", text: "zzz qqq" }, review(0.1, "ungrounded", ["no"])] });
    const state = await graph.run(turnInput("Zxqv blorp?"));
    expect(state.source.kind).toBe("fallback");
    expect(state.delivered).toMatch(/^I don't know/);
  });

  it("the fallback holds a quoted unit to the question's distinctive word, with the knowledge base's word rarity", async () => {
    // kb/'s Processes and Services answers; document frequencies as on kb/: "port" 11, "process" 14, "find" 17.
    const frequency: Record<string, number> = { find: 17, process: 14, port: 11, uses: 53 };
    const knowledgeBase = Object.assign(
      new FakeKnowledgeBase([
        { id: "processes", title: "Processes › Questions and answers", text: "Q: How do I find the process id of a program?\nA: Run `pgrep -a programname`." },
        { id: "services", title: "Services › Questions and answers", text: "Q: Why does my web service not start?\nA: Another program may already use its port. Run `systemctl status servicename`." },
      ]),
      { documentFrequency: (word: string) => frequency[word] ?? 0 },
    );
    const { graph } = await testGraph({ maxRevisions: 0, knowledgeBase, turns: [route("general"), { agent: "answerer", text: "zzz qqq" }, review(0.1, "ungrounded", ["no"])] });
    const state = await graph.run(turnInput("how do I find which process uses a port?"));
    expect(state.source.kind).toBe("fallback");
    expect(state.delivered).toMatch(/^I don't know for sure/);
  });

  it("a spec with fallback none delivers the failed draft (for comparing variants)", async () => {
    const { graph } = await testGraph({ maxRevisions: 0, spec: { fallback: "none" }, turns: [route("files"), { agent: "answerer", text: "Use dir." }, review(0.1, "ungrounded", ["no"])] });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.source).toEqual({ kind: "model", adapter: null });
    expect(state.delivered).toBe("Use dir.");
  });

  it("a passing answer is delivered as is, with source model and its adapter", async () => {
    const { graph } = await testGraph({ turns: [route("files"), { agent: "answerer", text: "Run `ls -a` to list hidden files." }, review(0.9)] });
    const state = await graph.run(turnInput("How do I list hidden files?", { adapter: { slot: "stable", version: "abc" } }));
    expect(state.source).toEqual({ kind: "model", adapter: "abc" });
    expect(state.delivered).toBe("Run `ls -a` to list hidden files.");
  });

  it("a runaway answer is cut where it starts repeating and fails as runaway", async () => {
    const loop = "- `sudo the when.\n".repeat(40);
    const { graph, memory } = await testGraph({ maxRevisions: 0, modes: { critic: "heuristic" }, turns: [route("files"), { agent: "answerer", text: loop }] });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.runaway).toBe(true);
    expect(state.answer).toBe("- `sudo the when.");
    expect(state.critique?.category).toBe("runaway");
    expect(state.source.kind).toBe("fallback");
    expect((await memory.get("t-1"))?.category).toBe("runaway");
  });
});

describe("recall that answers from verified memory", () => {
  it("above the reuse threshold the verified answer answers (no generation), the critic still checks it, and the step says memory", async () => {
    const verified = await verifiedWith([entry()]);
    const { graph, model } = await testGraph({ verified, turns: [route("files"), review(0.9)] });
    const tokens: string[] = [];
    const state = await graph.run(turnInput("how do I list hidden files"), { onToken: (t) => tokens.push(t) });
    const id = (await verified.list())[0]!.id;
    expect(state.delivered).toBe("`ls -a` — list all files, including hidden files.");
    expect(state.source).toEqual({ kind: "memory", adapter: null, entry: id });
    expect(state.steps.map((s) => `${s.agent}:${s.method}`)).toEqual(["router:llm", "answerer:memory", "critic:llm"]);
    expect(model.callsOf("answerer")).toEqual([]);
    expect(tokens.join("")).toBe(state.delivered);
    expect(await verified.servedBy("t-1")).toBe(id);
  });

  it("between the hint and reuse thresholds the verified Q/A goes into the answerer's prompt as a worked example", async () => {
    const verified = await verifiedWith([entry()]);
    const { graph, model } = await testGraph({
      verified,
      spec: { verified: { hint: true, reuseThreshold: 0.999, hintThreshold: 0.3 } },
      turns: [route("files"), { agent: "answerer", text: "Run `ls -a`." }, review(0.9)],
    });
    const state = await graph.run(turnInput("which command lists the hidden files in a folder?"));
    expect(state.source.kind).toBe("model");
    const prompt = model.callsOf("answerer")[0]!.messages.map((m) => String(m.content)).join("\n");
    expect(prompt).toContain("Verified answers to similar questions:\nQ: How do I list hidden files?\nA: `ls -a`");
  });

  it("a spec can turn reuse and hints off", async () => {
    const verified = await verifiedWith([entry()]);
    const { graph, model } = await testGraph({ verified, spec: { verified: { reuse: false, hint: false } }, turns: [route("files"), { agent: "answerer", text: "Run `ls -a`." }, review(0.9)] });
    const state = await graph.run(turnInput("How do I list hidden files?"));
    expect(state.source.kind).toBe("model");
    expect(model.callsOf("answerer")[0]!.messages.map((m) => String(m.content)).join("\n")).not.toContain("Verified answers");
  });

  it("canary entries are seen only by turns on their adapter version; demoted and withdrawn ones by nobody", async () => {
    const verified = await verifiedWith([entry({ release: "v2", status: "canary" })]);
    const { graph } = await testGraph({ verified, turns: [{ ...route("files"), times: 3 }, { agent: "answerer", text: "Run `ls -a`.", times: 2 }, { ...review(0.9), times: 3 }] });
    const stable = await graph.run(turnInput("How do I list hidden files?", { adapter: { slot: "stable", version: "v1" } }));
    expect(stable.source.kind).toBe("model");
    const canary = await graph.run(turnInput("How do I list hidden files?", { traceId: "t-2", adapter: { slot: "canary", version: "v2" } }));
    expect(canary.source.kind).toBe("memory");
    await verified.setReleaseStatus({ release: "v2", to: "withdrawn", note: "rolled back" });
    const after = await graph.run(turnInput("How do I list hidden files?", { traceId: "t-3", adapter: { slot: "canary", version: "v2" } }));
    expect(after.source.kind).toBe("model");
  });
});
