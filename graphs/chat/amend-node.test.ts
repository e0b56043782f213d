import { describe, expect, it } from "vitest";
import { parseManualOptions, type ManualOption, type OptionManual } from "../../memory/index.js";
import { GZIP_MANUAL } from "../../agents/test-fixtures.js";
import { FakeKnowledgeBase } from "../../test/fakes/index.js";
import { testGraph, turnInput } from "./test-council.js";

const GZIP_PAGE = {
  id: "gzip",
  title: "gzip",
  text: "- Compress a file, replacing it with a `gzip` archive:\n\n`gzip {{path/to/file}}`\n\n- Decompress a file, replacing it with the original uncompressed version:\n\n`gzip {{[-d|--decompress]}} {{path/to/file.gz}}`",
};
class OneToolManual implements OptionManual {
  calls = 0;
  async options(tool: string): Promise<readonly ManualOption[] | undefined> {
    this.calls++;
    return tool === "gzip" ? parseManualOptions(GZIP_MANUAL) : undefined;
  }
}

const question = "What gzip command would compress a file, keeping the original file?";
const draft = "`gzip path/to/file` — compress a file, keeping the original file.";

describe("amend node", () => {
  it("adds the asked-for option from the manual; the critic grounds it on the manual's line and the turn records the amended answer", async () => {
    const manual = new OneToolManual();
    const { graph, memory } = await testGraph({
      modes: { router: "heuristic", critic: "heuristic" },
      knowledgeBase: new FakeKnowledgeBase([GZIP_PAGE]),
      manual,
      spec: { maxRevisions: 0 },
      turns: [{ agent: "answerer", text: draft }],
    });
    const state = await graph.run(turnInput(question));
    expect(state.answer).toBe("`gzip -k path/to/file` — compress a file, keeping the original file.");
    expect(state.passages.map(({ passage }) => passage.source)).toContain("man/gzip.1");
    expect(state.steps.map((step) => step.agent)).toEqual(["router", "answerer", "amend", "critic"]);
    expect(state.critique!.reasons.join(" ")).not.toMatch(/not in the retrieved notes/);
    expect(state.source.kind).toBe("model");
    expect(state.delivered).toBe(state.answer);
    expect(await memory.get("t-1")).toMatchObject({ answer: state.answer, success: true });
  });

  it("without the manual's line the same option fails the critic as ungrounded (what the passage is for)", async () => {
    const { graph } = await testGraph({
      modes: { router: "heuristic", critic: "heuristic" },
      knowledgeBase: new FakeKnowledgeBase([GZIP_PAGE]),
      spec: { maxRevisions: 0, nodes: { amend: "none" } },
      turns: [{ agent: "answerer", text: "`gzip -k path/to/file` — compress a file, keeping the original file." }],
    });
    const state = await graph.run(turnInput(question));
    expect(state.critique!.reasons.join(" ")).toMatch(/-k of gzip not in the retrieved notes/);
    expect(state.source.kind).toBe("fallback");
  });

  it("spec amend: none never reads the manual", async () => {
    const manual = new OneToolManual();
    const { graph } = await testGraph({
      modes: { router: "heuristic", critic: "heuristic" },
      knowledgeBase: new FakeKnowledgeBase([GZIP_PAGE]),
      manual,
      spec: { maxRevisions: 0, nodes: { amend: "none" } },
      turns: [{ agent: "answerer", text: draft }],
    });
    const state = await graph.run(turnInput(question));
    expect(state.answer).toBe(draft);
    expect(manual.calls).toBe(0);
  });
});
