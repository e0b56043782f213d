import { describe, expect, it } from "vitest";
import { ANSWERER_SYSTEM_PROMPT } from "../../agents/index.js";
import { PROJECT_ROOT } from "../../core/index.js";
import { findHeldOutLeaks, isHeldOutPage, loadHeldOutPages } from "../../training/datasets/index.js";
import { TLDR_ROOT } from "../../training/testing/seedling-items.js";
import { join } from "node:path";
import { readingQuestion } from "./questions.js";
import { plainTldrCommand } from "../../memory/index.js";
import { ABSENT_ANSWER, buildReadingCorpus, parseAllowedPage, readingAnswer } from "./reading-corpus.js";

describe("reading corpus (the seedling's pre-training examples)", () => {
  it("renders tldr placeholders the way answers show them and answers command first", () => {
    expect(plainTldrCommand("tar {{[-C|--directory]}} {{path/to/dir}} -xf {{file.tar}}")).toBe("tar -C path/to/dir -xf file.tar");
    expect(readingAnswer({ description: "Extract an archive:", command: "tar xf {{file}}" })).toBe("`tar xf file` — extract an archive.");
    expect(readingQuestion({ description: "Extract an archive", name: "tar", variant: 0 })).toBe("How do I extract an archive using tar?");
    expect(new Set(Array.from({ length: 10 }, (_, variant) => readingQuestion({ description: "List files", name: "ls", variant }))).size).toBe(10);
  });

  it("drops a held-out page's example lines from an allowed page", () => {
    const heldOut = { paths: new Set<string>(), names: new Set<string>(), lines: new Set(["- Secret held-out task:", "`held --out`"]) };
    const { source, dropped } = parseAllowedPage({ page: "demo", heldOut, markdown: "# demo\n\n> Demo tool.\n\n- Secret held-out task:\n\n`demo --secret`\n\n- Keep this:\n\n`demo --keep`\n\n- Other:\n\n`held --out`\n" });
    expect(dropped).toBe(2);
    expect(source.examples).toEqual([{ description: "Keep this", command: "demo --keep" }]);
    expect(source.markdown).not.toContain("Secret");
  });

  it("builds examples in the answerer's exact prompt over retrieved passages, from allowed pages only, with disjoint validation pages", async () => {
    const corpus = await buildReadingCorpus({ tldrRoot: TLDR_ROOT, kbDir: join(PROJECT_ROOT, "kb"), seed: 7, maxPages: 60, validationFraction: 0.1, questionsPerExample: 1 });
    const heldOut = loadHeldOutPages({ tldrRoot: TLDR_ROOT });
    expect(corpus.examples.length).toBeGreaterThan(200);
    expect(corpus.examples.filter((example) => isHeldOutPage(heldOut, example.page))).toEqual([]);
    expect(corpus.pages.validation.length).toBeGreaterThan(0);
    expect(corpus.pages.train.filter((page) => corpus.pages.validation.includes(page))).toEqual([]);
    for (const example of corpus.examples) {
      expect(example.prompt.startsWith(`### System:\n${ANSWERER_SYSTEM_PROMPT}`)).toBe(true);
      expect(example.prompt.endsWith("### Assistant:\n")).toBe(true);
      expect(example.completion.endsWith("\n###")).toBe(true);
      if (example.kind === "absent") expect(example.completion).toBe(`${ABSENT_ANSWER}\n###`);
      else expect(example.completion.startsWith(`\`${example.command}\``)).toBe(true);
      // A `read` example's passage (the raw command) is in its prompt; a `compose` one's is not.
      const raw = example.prompt.includes("Context:\n");
      expect(raw).toBe(true);
    }
    const kinds = new Set(corpus.examples.map((example) => example.kind));
    expect(kinds).toEqual(new Set(["read", "compose", "absent"]));
    expect(findHeldOutLeaks({ heldOut, texts: corpus.examples.map((example) => ({ source: example.page, text: example.prompt + example.completion })) })).toEqual([]);
    const again = await buildReadingCorpus({ tldrRoot: TLDR_ROOT, kbDir: join(PROJECT_ROOT, "kb"), seed: 7, maxPages: 60, validationFraction: 0.1, questionsPerExample: 1 });
    expect(again.sha256).toBe(corpus.sha256);
  }, 240_000);
});
