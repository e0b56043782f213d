import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { isHeldOutPage, loadHeldOutPages } from "../datasets/index.js";

/** Resolves tldr placeholders: `{{[-a|--all]}}` → `-a`, `{{path/to/file}}` → `path/to/file`. */
export function resolveTldrPlaceholders(command: string): string {
  return command.replace(/\{\{\[([^|\]]*)\|[^\]]*\]\}\}/g, "$1").replace(/\{\{([^}]*)\}\}/g, "$1");
}

/**
 * Question → command pairs from tldr-pages (`- Description:` followed by `` `command` ``), in file-name order,
 * at most `perPage` from each page, answers at most `maxAnswerChars` long. Pages listed in the dataset's HELD-OUT.txt
 * (`<dir>/../../HELD-OUT.txt`) are never read: benchmarks ask about them.
 */
export async function loadTldrPairs({ dir, count, perPage = 1, maxAnswerChars = 40 }: { dir: string; count: number; perPage?: number; maxAnswerChars?: number }): Promise<Array<{ question: string; answer: string }>> {
  const heldOut = loadHeldOutPages({ tldrRoot: join(dir, "..", "..") });
  const pages = (await readdir(dir)).filter((name) => /^[a-z][a-z0-9-]*\.md$/.test(name) && !isHeldOutPage(heldOut, name)).sort();
  const pairs: Array<{ question: string; answer: string }> = [];
  const seen = new Set<string>();
  for (const page of pages) {
    const text = await readFile(join(dir, page), "utf8");
    const matches = [...text.matchAll(/^- (.+?):?\n\n`([^`]+)`$/gm)].slice(0, perPage);
    for (const match of matches) {
      const question = match[1]!.trim().replace(/[.:]$/, "");
      const answer = resolveTldrPlaceholders(match[2]!.trim());
      if (answer.length > maxAnswerChars || seen.has(question)) continue;
      seen.add(question);
      pairs.push({ question, answer });
      if (pairs.length >= count) return pairs;
    }
  }
  return pairs;
}
