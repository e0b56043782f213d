import { describe, expect, it } from "vitest";
import { renderPrompt } from "../models/prompt-template.js";
import { FakeChatModel } from "../test/fakes/index.js";
import { Answerer, buildAnswerMessages, renderAnswerPrompt, StopFilter } from "./answerer.js";
import { fixtureKnowledgeBase } from "./test-fixtures.js";

describe("buildAnswerMessages", () => {
  it("puts system, retrieved context, history and question in template order", async () => {
    const passages = await fixtureKnowledgeBase().search("extract tar archive");
    const messages = buildAnswerMessages({ question: " How do I extract a tar file? ", passages, history: [{ question: "hi", answer: "Hello." }] });
    expect(messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user"]);
    expect(messages[0]!.content).toMatch(/^You are Council[\s\S]*Context:\n\[1\] tar\n> Archiving utility/);
    expect(messages[3]!.content).toBe("How do I extract a tar file?");
    expect(renderAnswerPrompt({ question: "How do I extract a tar file?", passages, history: [{ question: "hi", answer: "Hello." }] })).toBe(
      renderPrompt(messages),
    );
  });

  it("bounds passages, passage length and history", () => {
    const passages = Array.from({ length: 5 }, (_, i) => ({ passage: { id: `${i}`, source: "x", title: `T${i}`, text: "w ".repeat(1000) }, score: 1 }));
    const history = Array.from({ length: 5 }, (_, i) => ({ question: `q${i}`, answer: `a${i}` }));
    const messages = buildAnswerMessages({ question: "q", passages, history });
    expect(messages[0]!.content.match(/\[\d\] T/g)).toHaveLength(3);
    expect(messages[0]!.content.length).toBeLessThan(2300);
    expect(messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(["q3", "q4", "q"]);
  });

  it("omits the context block when nothing was retrieved", () => {
    expect(buildAnswerMessages({ question: "q", passages: [] })[0]!.content).not.toContain("Context:");
  });
});

describe("Answerer", () => {
  it("streams tokens, passes the adapter, and sends exactly the answer prompt", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "answerer", text: " Run `tar xf file.tar`." }] });
    const passages = await fixtureKnowledgeBase().search("extract tar");
    const tokens: string[] = [];
    const result = await new Answerer({ model }).answer({ question: "extract tar?", passages, adapter: "canary", onToken: (t) => tokens.push(t) });
    expect(result.answer).toBe("Run `tar xf file.tar`.");
    expect(tokens.join("")).toBe("Run `tar xf file.tar`.");
    expect(tokens.length).toBeGreaterThan(1);
    expect(result).toMatchObject({ tokens: 4, truncated: false, firstTokenMs: expect.any(Number) });
    const call = model.calls[0]!;
    expect(call).toMatchObject({ adapter: "canary", streamed: true });
    expect(call.options.maxTokens).toBe(160);
    expect(renderPrompt(call.messages.map((m) => ({ role: m.getType() === "system" ? "system" : "user", content: m.text })))).toBe(
      renderAnswerPrompt({ question: "extract tar?", passages }),
    );
  });

  it("stops at a template marker and never streams it", async () => {
    const model = new FakeChatModel({ turns: [{ tokens: ["Use", " ls", " -a.", "\n#", "##", " User:", " more"] }] });
    const tokens: string[] = [];
    const result = await new Answerer({ model }).answer({ question: "q", passages: [], adapter: null, onToken: (t) => tokens.push(t) });
    expect(result.answer).toBe("Use ls -a.");
    expect(tokens.join("")).toBe("Use ls -a.");
  });

  it("reports truncation at the token limit", async () => {
    const model = new FakeChatModel({ turns: [{ text: "one two three four" }] });
    const result = await new Answerer({ model, maxTokens: 4 }).answer({ question: "q", passages: [], adapter: null });
    expect(result.truncated).toBe(true);
  });
});

describe("StopFilter", () => {
  it("releases held-back text that turned out not to be a marker", () => {
    const filter = new StopFilter(["\n###"]);
    expect(filter.push("a\n#")).toBe("a");
    expect(filter.push("x")).toBe("\n#x");
    expect(filter.push("\n")).toBe("");
    expect(filter.flush()).toBe("\n");
    expect(filter.text).toBe("a\n#x\n");
  });
});
