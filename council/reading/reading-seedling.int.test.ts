import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Answerer } from "../../agents/index.js";
import { PROJECT_ROOT, SEEDLING_PATH } from "../../core/index.js";
import { MarkdownKnowledgeBase, plainTldrCommand } from "../../memory/index.js";
import { LlamaChatModel } from "../../models/index.js";
import { verifySeedlingFile } from "../../models/seedling/index.js";
import { loadHeldOutPages } from "../../training/datasets/index.js";
import { TLDR_ROOT } from "../../training/testing/seedling-items.js";
import { FULL_READING_RECIPE, isValidationPage, loadAllowedPages, readingQuestion, type ReadingExample } from "./index.js";

/**
 * The committed seedling reads: 10 questions about allowed tldr pages it was never trained on (the recipe's
 * validation pages), asked through the runtime's knowledge base and answerer; the page is in the context
 * (retrieved), and at least 5 answers must start with the exact command.
 */
describe("the reading seedling (models/seedling.gguf) copies the right command from its context", () => {
  let dir: string;
  let kb: MarkdownKnowledgeBase;
  let model: LlamaChatModel;
  const questions: Array<{ question: string; command: string; page: string }> = [];

  beforeAll(async () => {
    const { report } = await verifySeedlingFile(SEEDLING_PATH);
    expect(report?.key).toMatch(/^reading-/);
    dir = await mkdtemp(join(tmpdir(), "council-reading-int-"));
    const { pages } = await loadAllowedPages({ tldrRoot: TLDR_ROOT, heldOut: loadHeldOutPages({ tldrRoot: TLDR_ROOT }) });
    const unseen = pages.filter((page) => isValidationPage(page.page, FULL_READING_RECIPE.corpus.validationFraction)).slice(0, 10);
    expect(unseen).toHaveLength(10);
    for (const page of unseen) {
      await writeFile(join(dir, `${page.page}.md`), page.markdown);
      const example = page.examples[0]!;
      questions.push({ question: readingQuestion({ description: example.description, name: page.name, variant: 0 }), command: plainTldrCommand(example.command), page: page.page });
    }
    kb = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite") });
    await kb.index(dir);
    await kb.index(join(PROJECT_ROOT, "kb"));
    model = await LlamaChatModel.create({ modelPath: SEEDLING_PATH, parallel: 1 });
  }, 120_000);
  afterAll(async () => {
    await model?.dispose();
    await kb?.dispose();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("answers ≥ 5 of 10 unseen pages with the exact command, and every answer stops on its own", async () => {
    const answerer = new Answerer({ model, maxTokens: 160 });
    const results: Array<{ question: string; want: string; got: string; exact: boolean; truncated: boolean }> = [];
    for (const { question, command, page } of questions) {
      const passages = await kb.search(question, { k: 3 });
      expect(passages.some(({ passage }) => passage.source.endsWith(`${page}.md`))).toBe(true);
      const answer = await answerer.answer({ question, passages, adapter: null });
      results.push({ question, want: command, got: answer.answer, exact: answer.answer.trim().startsWith(`\`${command}\``), truncated: answer.truncated });
    }
    const exact = results.filter((result) => result.exact).length;
    console.log(JSON.stringify({ exact, results }, null, 1));
    expect(exact).toBeGreaterThanOrEqual(5);
    expect(results.filter((result) => result.truncated)).toEqual([]);
  }, 300_000);
});

export type { ReadingExample };
