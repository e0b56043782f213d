import { describe, expect, it } from "vitest";
import { ManualPages } from "../../memory/index.js";
import { FakeKnowledgeBase } from "../../test/fakes/index.js";
import { testGraph, turnInput } from "./test-council.js";

// The chat graph with the real manual pages of this machine (man-db): a scripted draft, the real amend step and critic.
describe("amend node on the local manual pages", () => {
  it("a draft missing the asked-for option is delivered with it, grounded on the manual's line", async () => {
    const gzip = {
      id: "gzip",
      title: "gzip",
      text: "- Compress a file, replacing it with a `gzip` archive:\n\n`gzip {{path/to/file}}`\n\n- Decompress a file, replacing it with the original uncompressed version:\n\n`gzip {{[-d|--decompress]}} {{path/to/file.gz}}`",
    };
    const { graph, memory } = await testGraph({
      modes: { router: "heuristic", critic: "heuristic" },
      knowledgeBase: new FakeKnowledgeBase([gzip]),
      manual: new ManualPages(),
      spec: { maxRevisions: 0 },
      turns: [{ agent: "answerer", text: "`gzip path/to/file` — compress a file, keeping the original file." }],
    });
    const state = await graph.run(turnInput("What gzip command would compress a file, keeping the original file?"));
    expect(state.delivered).toBe("`gzip -k path/to/file` — compress a file, keeping the original file.");
    expect(state.source.kind).toBe("model");
    expect(state.passages.at(-1)!.passage).toMatchObject({ source: "man/gzip.1", text: expect.stringContaining("`gzip -k`") });
    expect(await memory.get("t-1")).toMatchObject({ success: true, answer: state.delivered });
  });
});
