import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT } from "../../core/index.js";
import { findHeldOutLeaks, isHeldOutPage, loadHeldOutPages } from "../../training/datasets/index.js";
import { TLDR_ROOT } from "../../training/testing/seedling-items.js";
import { buildReadingCorpus, COMPOSE_STAGE_RECIPE, FULL_READING_RECIPE, loadAllowedPages } from "./index.js";

/** The build fails if the seedling's reading pre-training ever reads a held-out page (HELD-OUT.txt): benchmarks ask about them. */
const STAGES = [
  { stage: "reading", seed: FULL_READING_RECIPE.seed, corpus: FULL_READING_RECIPE.corpus },
  { stage: "compose", seed: COMPOSE_STAGE_RECIPE.seed, corpus: COMPOSE_STAGE_RECIPE.corpus },
];

describe("reading pre-training corpus contamination (full recipe, both stages)", () => {
  it.each(STAGES)("$stage stage: no held-out page, and no held-out description or command line, in any page indexed or any question / answer trained", async ({ seed, corpus: options }) => {
    const heldOut = loadHeldOutPages({ tldrRoot: TLDR_ROOT });
    const { pages } = await loadAllowedPages({ tldrRoot: TLDR_ROOT, heldOut });
    expect(pages.length).toBeGreaterThan(6000);
    expect(pages.filter((page) => isHeldOutPage(heldOut, page.page))).toEqual([]);
    expect(findHeldOutLeaks({ heldOut, texts: pages.map((page) => ({ source: page.page, text: page.markdown })) })).toEqual([]);

    const corpus = await buildReadingCorpus({ tldrRoot: TLDR_ROOT, kbDir: join(PROJECT_ROOT, "kb"), seed, ...options });
    const questions = new Set<string>();
    const completions = new Set<string>();
    for (const example of corpus.examples) {
      questions.add(example.prompt.slice(example.prompt.lastIndexOf("### User:\n")));
      completions.add(example.completion);
    }
    const texts = [...questions, ...completions].map((text, index) => ({ source: `example text ${index}`, text }));
    expect(findHeldOutLeaks({ heldOut, texts })).toEqual([]);
  }, 600_000);
});
