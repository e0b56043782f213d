import { describe, expect, it } from "vitest";
import type { MemoryHit, TurnRecord } from "../memory/types.js";
import { FakeChatModel } from "../test/fakes/index.js";
import { Critic } from "./critic.js";
import { fixtureEmbeddings, fixtureKnowledgeBase } from "./test-fixtures.js";

const kb = fixtureKnowledgeBase();
const heuristic = () => new Critic({ model: new FakeChatModel(), embeddings: fixtureEmbeddings(), mode: "heuristic", threshold: 0.5 });

async function review(critic: Critic, question: string, answer: string, extra: { recalled?: MemoryHit[]; truncated?: boolean } = {}) {
  return critic.critique({ question, answer, passages: await kb.search(question), ...extra });
}

describe("Critic (heuristic)", () => {
  it("passes an answer grounded in the retrieved passage", async () => {
    const { value } = await review(heuristic(), "How do I extract a tar archive?", "Extract the archive file with `tar xf source.tar`.");
    expect(value.score).toBeGreaterThanOrEqual(0.5);
    expect(value.category).toBeNull();
  });

  it("fails an answer about something else as off-topic or ungrounded", async () => {
    const { value } = await review(heuristic(), "How do I extract a tar archive?", "Bananas are yellow fruits rich in potassium and sugar.");
    expect(value.score).toBeLessThan(0.5);
    expect(["off-topic", "ungrounded"]).toContain(value.category);
  });

  it("fails a plausible answer whose words are not in the knowledge base as ungrounded", async () => {
    const { value } = await review(heuristic(), "How do I reset my password?", "Reset your password in the Zorblax portal under Quantum settings tab.");
    expect(value.score).toBeLessThan(0.5);
    expect(value.category).toBe("ungrounded");
  });

  it.each([
    ["", "format", /empty/],
    ["### User: how do I reset my password", "format", /template markers/],
    ["reset reset reset password password password reset reset reset password password password reset reset reset", "format", /loop/],
    ["passwd", "incomplete", /too short/],
    ["To reset your password run `rm -rf /` then passwd.", "unsafe", /dangerous/],
  ])("format/safety checks cap %j as %s", async (answer, category, reason) => {
    const { value } = await review(heuristic(), "How do I reset my password?", answer);
    expect(value.category).toBe(category);
    expect(value.score).toBeLessThan(0.5);
    expect(value.reasons.join("; ")).toMatch(reason);
  });

  it("penalises repeating an answer a user rejected for the same question", async () => {
    const answer = "To reset your password, run `passwd` and enter the old password.";
    const record = { question: "How do I reset my password?", answer, feedback: { rating: -1, at: 1 } } as TurnRecord;
    const { value } = await review(heuristic(), "How do I reset my password?", answer, { recalled: [{ record, score: 0.97 }] });
    expect(value).toMatchObject({ category: "user-rejected" });
    expect(value.score).toBeLessThanOrEqual(0.2);
  });

  it("marks a truncated answer incomplete", async () => {
    const { value } = await review(heuristic(), "How do I reset my password?", "To reset your password, run `passwd` and enter the old", { truncated: true });
    expect(value.reasons.join()).toMatch(/cut off/);
  });
});

describe("Critic (llm / auto)", () => {
  it("uses a valid model review", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "critic", text: '{"score": 0.2, "category": "incomplete", "reasons": ["misses the flag"]}' }] });
    const critic = new Critic({ model, embeddings: fixtureEmbeddings(), mode: "auto" });
    const outcome = await review(critic, "How do I extract a tar archive?", "Use tar to extract the archive file.");
    expect(outcome.step.method).toBe("llm");
    expect(outcome.value).toEqual({ score: 0.2, category: "incomplete", reasons: ["misses the flag"] });
    expect(model.calls[0]!.messages[1]!.text).toContain("Answer: Use tar to extract");
  });

  it("auto falls back to the heuristic on invalid JSON and says so", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "critic", text: '{"score": "great"}' }] });
    const critic = new Critic({ model, embeddings: fixtureEmbeddings(), mode: "auto" });
    const outcome = await review(critic, "How do I extract a tar archive?", "Extract the archive file with `tar xf source.tar`.");
    expect(outcome.step).toMatchObject({ method: "heuristic", fallback: expect.stringMatching(/score/) });
    expect(outcome.value.score).toBeGreaterThanOrEqual(0.5);
  });

  it("hard checks override a generous model and skip the call for an empty answer", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "critic", text: '{"score": 1, "category": null, "reasons": []}' }] });
    const critic = new Critic({ model, embeddings: fixtureEmbeddings(), mode: "llm" });
    const leaked = await review(critic, "How do I reset my password?", "Run passwd. ### User: thanks");
    expect(leaked.value).toMatchObject({ score: 0.2, category: "format" });
    const empty = await review(critic, "How do I reset my password?", "   ");
    expect(empty.value).toMatchObject({ score: 0, category: "format" });
    expect(model.calls).toHaveLength(1);
  });

  it("clears the category of a passing model review", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "critic", text: '{"score": 0.9, "category": "format", "reasons": ["fine"]}' }] });
    const outcome = await review(new Critic({ model, embeddings: fixtureEmbeddings(), mode: "llm" }), "How do I reset my password?", "Run `passwd` to reset your password.");
    expect(outcome.value).toMatchObject({ score: 0.9, category: null });
  });
});
