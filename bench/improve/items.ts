import { readFile } from "node:fs/promises";
import { z } from "zod";
import { CouncilError, safeParseJson } from "../../core/index.js";

/** One benchmark item: a question and the JS regexes (any of them) a passing answer matches. Extra fields are ignored. */
export const benchItemSchema = z
  .object({
    id: z.string().min(1).max(200),
    question: z.string().min(1).max(4_000),
    accept: z.array(z.string().min(1)).min(1),
  })
  .passthrough();

export interface BenchItem {
  id: string;
  question: string;
  accept: string[];
}

/** Compiles an item's accept patterns once; a pattern that is not a valid JS regex is DATASET_INVALID. */
export function compileAccept(item: BenchItem): RegExp[] {
  return item.accept.map((pattern) => {
    try {
      return new RegExp(pattern);
    } catch (error) {
      throw new CouncilError("DATASET_INVALID", `Item ${item.id}: accept pattern ${JSON.stringify(pattern)} is not a valid regular expression.`, { cause: error });
    }
  });
}

/** An answer passes when any accept regex matches it (JS regex, no flags: case-sensitive). */
export function judgeAnswer({ answer, accept }: { answer: string; accept: readonly RegExp[] }): boolean {
  return accept.some((pattern) => pattern.test(answer));
}

/** Parses JSONL items: blank lines skipped; a bad line, a bad regex or a duplicate id is DATASET_INVALID naming the line. */
export function parseItemsJsonl({ text, source }: { text: string; source: string }): BenchItem[] {
  const items: BenchItem[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === "") return;
    const parsed = safeParseJson(line, benchItemSchema);
    if (!parsed.success) throw new CouncilError("DATASET_INVALID", `${source}:${index + 1}: ${parsed.error.message}`);
    const { id, question, accept } = parsed.value;
    if (seen.has(id)) throw new CouncilError("DATASET_INVALID", `${source}:${index + 1}: duplicate id ${JSON.stringify(id)}.`);
    seen.add(id);
    const item = { id, question, accept };
    compileAccept(item);
    items.push(item);
  });
  if (items.length === 0) throw new CouncilError("DATASET_INVALID", `${source}: no items.`);
  return items;
}

export async function loadItemsJsonl(path: string): Promise<BenchItem[]> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CouncilError("DATASET_INVALID", `Cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
  return parseItemsJsonl({ text, source: path });
}

export function itemsToJsonl(items: readonly BenchItem[]): string {
  return items.map(({ id, question, accept }) => JSON.stringify({ id, question, accept })).join("\n") + "\n";
}
