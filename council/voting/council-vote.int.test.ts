import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent0 } from "../../agents/index.js";
import { PROJECT_ROOT } from "../../core/index.js";
import { MarkdownKnowledgeBase } from "../../memory/index.js";
import { HashEmbeddings } from "../../models/index.js";
import { FakeChatModel } from "../../test/fakes/index.js";
import { councilVote } from "./index.js";

/**
 * The nightly rewrite + vote over the project's real knowledge base (kb/*.md in SQLite, hash embeddings as the
 * runtime's default), with no model: the two rewrites the old vote accepted at 1.00 are now rejected.
 */
describe("Agent-0 + councilVote over the real kb/", () => {
  const dir = mkdtempSync(join(tmpdir(), "council-vote-"));
  let knowledgeBase: MarkdownKnowledgeBase;
  beforeAll(async () => {
    knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings: new HashEmbeddings({ dimensions: 384 }) });
    await knowledgeBase.index(join(PROJECT_ROOT, "kb"));
  });
  afterAll(async () => {
    await knowledgeBase.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const voteOn = async (question: string, extra: Array<{ text: string; source: string }> = []) => {
    const agent0 = new Agent0({ model: new FakeChatModel(), knowledgeBase, mode: "heuristic" });
    const passages = await knowledgeBase.search(question, { k: 3 });
    const { candidates } = await agent0.rewrite({ question, failedAnswer: "I don't know.", passages });
    const all = [...candidates.map((candidate) => ({ id: candidate.id, text: candidate.answer, source: "knowledge-base" })), ...extra.map((candidate, index) => ({ id: `extra-${index}`, ...candidate }))];
    const vote = await councilVote({ question, candidates: all, passages, quorum: 2 });
    return { vote, winner: all.find((candidate) => candidate.id === vote.winnerId)?.text };
  };

  it.each([
    ["how do I see which process uses port 8080?", /ssh -L/],
    ["how do I find large files in my home directory", /-name "\*\.pdf"/],
  ])("does not accept a wrong command for %s", async (question, wrong) => {
    const { vote, winner } = await voteOn(question, [{ text: question.includes("8080") ? "`ssh -L 8080:localhost:80 alex@server` makes the server's port 80 reachable on your own port 8080." : 'Run `find ~ -name "*.pdf"`.', source: "llm" }]);
    expect(vote.accepted && wrong.test(winner ?? "")).toBe(false);
  });

  it("accepts the knowledge base's answer to a question it answers", async () => {
    const { vote, winner } = await voteOn("How do I extract a .tar.gz file?", [{ text: "`tar xzf path/to/target.tar.gz`", source: "llm" }]);
    expect(vote.accepted).toBe(true);
    expect(winner).toMatch(/tar -?xzf/);
  });
});
