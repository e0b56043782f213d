import { describe, expect, it } from "vitest";
import { FakeChatModel } from "../test/fakes/index.js";
import { Agent0 } from "./agent0.js";
import { groundedAnswer, splitUnits } from "./grounded-answer.js";
import { FIXTURE_PASSAGES, fixtureKnowledgeBase } from "./test-fixtures.js";

describe("groundedAnswer", () => {
  it("picks the tldr description and command that cover the question", async () => {
    const passages = await fixtureKnowledgeBase().search("How do I extract a tar archive file?");
    expect(groundedAnswer("How do I extract a tar archive file?", passages)).toMatchObject({
      answer: "`tar xf source.tar.gz` — extract a (compressed) archive file into the current directory.",
      passageId: "tar",
    });
  });

  it("picks the most relevant prose sentence", async () => {
    const question = "the VPN still fails, how do I restart the network service?";
    const passages = await fixtureKnowledgeBase().search(question);
    expect(groundedAnswer(question, passages)?.answer).toBe("If it still fails, restart the network service with `sudo systemctl restart NetworkManager`.");
  });

  it("is undefined without passages", () => {
    expect(groundedAnswer("anything", [])).toBeUndefined();
  });

  it("splits fenced code after a description into one unit", () => {
    const units = splitUnits("- Show disk usage:\n\n```\ndf -h\n```\n");
    expect(units.map((u) => u.text)).toEqual(["`df -h` — show disk usage."]);
    expect(splitUnits(FIXTURE_PASSAGES[1]!.text).map((u) => u.text)).toContain("`ls -a` — list all files, including hidden files.");
  });
});

describe("Agent0", () => {
  const failure = { question: "How do I list hidden files?", failedAnswer: "Use the dir command.", reasons: ["ungrounded"] };

  it("returns the model rewrite, the best distinct grounded answers and the correction, with stable ids", async () => {
    const script = () => new FakeChatModel({ turns: [{ agent: "agent0", text: '{"answer": "Run `ls -a` to include hidden files."}' }] });
    const model = script();
    const agent0 = new Agent0({ model, knowledgeBase: fixtureKnowledgeBase(), mode: "auto" });
    const result = await agent0.rewrite({ ...failure, correction: "ls -a" });
    expect(result.candidates.map((c) => [c.source, c.answer])).toEqual([
      ["llm", "Run `ls -a` to include hidden files."],
      ["kb-grounded", "`ls -a` — list all files, including hidden files."],
      ["kb-grounded", "List directory contents."],
      ["kb-grounded", "`ls -l` — long format list with size, permissions and owner."],
      ["correction", "ls -a"],
    ]);
    expect(result.steps).toEqual([{ agent: "agent0", method: "llm", ms: expect.any(Number) }]);
    expect(model.calls[0]!.messages[1]!.text).toMatch(/Rejected answer: Use the dir command[\s\S]*Why it was rejected: ungrounded/);
    const again = await new Agent0({ model: script(), knowledgeBase: fixtureKnowledgeBase() }).rewrite({ ...failure, correction: "ls -a" });
    expect(again.candidates.map((c) => c.id)).toEqual(result.candidates.map((c) => c.id));
  });

  it("auto falls back to the grounded answer when the model cannot produce JSON", async () => {
    const model = new FakeChatModel({ turns: [{ agent: "agent0", text: "ls ls ls" }] });
    const result = await new Agent0({ model, knowledgeBase: fixtureKnowledgeBase() }).rewrite(failure);
    expect(result.candidates.map((c) => c.source)).toEqual(["kb-grounded", "kb-grounded", "kb-grounded"]);
    expect(result.steps[0]).toMatchObject({ method: "heuristic", fallback: expect.stringMatching(/not a JSON object/) });
  });

  it("heuristic mode never calls the model; llm mode rejects bad output", async () => {
    const quiet = new FakeChatModel();
    const result = await new Agent0({ model: quiet, knowledgeBase: fixtureKnowledgeBase(), mode: "heuristic" }).rewrite(failure);
    expect(result.candidates).toHaveLength(3);
    expect(quiet.calls).toHaveLength(0);
    const bad = new FakeChatModel({ turns: [{ agent: "agent0", text: "{}" }] });
    await expect(new Agent0({ model: bad, knowledgeBase: fixtureKnowledgeBase(), mode: "llm" }).rewrite(failure)).rejects.toMatchObject({
      code: "STRUCTURED_OUTPUT_INVALID",
    });
  });
});

describe("groundedAnswer on helpdesk markdown", () => {
  const page = [
    "## tar",
    "`tar` packs many files into one archive.",
    "- Create: `tar -czf backup.tar.gz Documents/` packs the folder.",
    "- Extract: `tar -xzf backup.tar.gz` unpacks into the current folder,",
    "  or into another one with `-C`.",
    "The letters mean: `c` create, `x` extract, `t` list, `z` gzip, `f` the archive file name follows,",
    "`v` print each file.",
    "",
    "## Questions and answers",
    "Q: How do I extract a .tar.gz file?",
    "A: Run `tar -xzf file.tar.gz`.",
  ].join("\n");
  const hit = (text: string) => [{ passage: { id: "archives", source: "a.md", title: "Archives", text }, score: 1 }];

  it("answers from the matching Q/A pair", () => {
    expect(groundedAnswer("How do I extract a tar.gz archive?", hit(page))?.answer).toBe("Run `tar -xzf file.tar.gz`.");
  });

  it("prefers the bullet whose lead word the question names, with its wrapped line", () => {
    const withoutQa = page.split("## Questions")[0]!;
    expect(groundedAnswer("How do I extract a tar.gz archive?", hit(withoutQa))?.answer).toBe(
      "Extract: `tar -xzf backup.tar.gz` unpacks into the current folder, or into another one with `-C`",
    );
  });
});
