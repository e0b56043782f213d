import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { buildTrainingText, DEFAULT_SYSTEM_PROMPT, loadKbDocuments, parseKbDocument } from "./index.js";
import { ANSWERER_SYSTEM_PROMPT } from "../../agents/index.js";

const KB = join(PROJECT_ROOT, "kb");

describe("knowledge base", () => {
  it("parses title, sections and Q/A pairs (multi-line answers joined)", () => {
    const doc = parseKbDocument("x.md", "# Title\n\nIntro text.\n\n## Part\nBody\n\n## Questions and answers\nQ: One?\nA: First\nline.\n\nQ: Two?\nA: Second.\n");
    expect(doc.title).toBe("Title");
    expect(doc.sections).toEqual([{ heading: "", text: "Intro text." }, { heading: "Part", text: "Body" }]);
    expect(doc.questions).toEqual([{ question: "One?", answer: "First line." }, { question: "Two?", answer: "Second." }]);
    expect(() => parseKbDocument("bad.md", "no title")).toThrow(expect.objectContaining({ code: "DATASET_INVALID" }));
  });

  it("kb/ is 60-100 KB of titled pages, each with sections and Q/A pairs", async () => {
    const names = (await readdir(KB)).filter((name) => name.endsWith(".md"));
    let bytes = 0;
    for (const name of names) bytes += (await stat(join(KB, name))).size;
    expect(bytes).toBeGreaterThan(60_000);
    expect(bytes).toBeLessThan(100_000);
    const documents = await loadKbDocuments(KB);
    for (const document of documents) {
      expect(document.sections.length, document.file).toBeGreaterThan(1);
      expect(document.questions.length, document.file).toBeGreaterThanOrEqual(4);
    }
  });

  it("the seedling trains on the answerer's exact system prompt", () => {
    expect(DEFAULT_SYSTEM_PROMPT).toBe(ANSWERER_SYSTEM_PROMPT);
  });

  it("renders Q/A with the shared template, splits deterministically and holds out a validation set", async () => {
    const documents = await loadKbDocuments(KB);
    const one = buildTrainingText({ documents, systemPrompt: "SYS", seed: 1 });
    expect(buildTrainingText({ documents, systemPrompt: "SYS", seed: 1 })).toEqual(one);
    expect(buildTrainingText({ documents, systemPrompt: "SYS", seed: 2 }).sha256).not.toBe(one.sha256);
    expect(one.train).toContain("### System:\nSYS\n\n### User:\n");
    expect(one.train).toContain("### Assistant:\n");
    expect(one.train).toMatch(/\n###\n\n/);
    expect(one.train).toContain("Context:\n[1] ");
    const total = one.counts.trainSegments + one.counts.validationSegments;
    expect(one.counts.validationSegments).toBe(Math.round(total * 0.1));
    expect(one.validation.length).toBeGreaterThan(2000);
  });
});
