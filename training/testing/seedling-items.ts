import { readdirSync } from "node:fs";
import { join } from "node:path";
import { buildTldrBench, type TldrItem } from "../../bench/improve/index.js";
import { PROJECT_ROOT } from "../../core/index.js";
import { isHeldOutPage, loadHeldOutPages } from "../datasets/index.js";

/** The tldr dataset beside the project (`../shared/datasets/tldr`), never copied into the repo. */
export const TLDR_ROOT = join(PROJECT_ROOT, "..", "shared", "datasets", "tldr");

/**
 * Items of the seedling quality test, built like the improvement bench's tldr traffic (round-robin, short answers)
 * from the `common/` pages that are NOT held out (HELD-OUT.txt lists every default bench page: no training may read
 * those), in name order; held-out: the bench's eval items of the same pages (other examples, rephrased), never trained on.
 */
export function seedlingQualityItems({ examples, maxAnswerChars }: { examples: number; maxAnswerChars: number }): { trained: TldrItem[]; heldOut: TldrItem[] } {
  const heldOutPages = loadHeldOutPages({ tldrRoot: TLDR_ROOT });
  const pages = readdirSync(join(TLDR_ROOT, "pages", "common"))
    .filter((name) => /^[a-z][a-z0-9-]*\.md$/.test(name))
    .map((name) => name.slice(0, -3))
    .filter((page) => !isHeldOutPage(heldOutPages, page))
    .sort()
    .slice(0, 4 * examples);
  const bench = buildTldrBench({ root: join(TLDR_ROOT, "pages"), pages });
  const trained = bench.traffic.filter((item) => item.answer.length <= maxAnswerChars).slice(0, examples);
  const trainedPages = new Set(trained.map((item) => item.page));
  const heldOut = bench.eval.filter((item) => trainedPages.has(item.page) && item.answer.length <= maxAnswerChars);
  return { trained, heldOut };
}
