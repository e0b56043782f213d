import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildAnswerMessages } from "../../agents/index.js";
import { CouncilError } from "../../core/index.js";
import { cosineRanker, DEFAULT_TITLE_BOOST, hybridRanker, MarkdownKnowledgeBase, plainTldrCommand, stripMnemonics, type PassageHit } from "../../memory/index.js";
import { renderExample, SeededRandom } from "../../models/index.js";
import { loadHeldOutPages, type HeldOutPages } from "../../training/datasets/index.js";
import { lowerFirst, readingQuestion } from "./questions.js";

/** One tldr example of an allowed page. */
export interface ReadingSourceExample {
  description: string;
  /** Raw command, placeholders untouched. */
  command: string;
}

export interface ReadingSourcePage {
  /** Page name (`git-commit`). */
  page: string;
  /** Command as typed (`git commit`). */
  name: string;
  /** The page rebuilt from its kept lines (held-out lines dropped), as the knowledge base indexes it. */
  markdown: string;
  examples: ReadingSourceExample[];
}

export type ReadingKind = "read" | "compose" | "absent";

/** One training example in the answerer's exact prompt format. */
export interface ReadingExample {
  prompt: string;
  completion: string;
  page: string;
  kind: ReadingKind;
  split: "train" | "validation";
  /** The command the answer must contain (normalised); absent for `absent` examples. */
  command?: string;
}

export interface ReadingCorpusOptions {
  /** tldr dataset root (holds pages/ and HELD-OUT.txt). */
  tldrRoot: string;
  /** Knowledge-base folder indexed beside every group of pages (distractor passages, as a deployment has). */
  kbDir?: string;
  seed: number;
  /** Pages per knowledge base (the bench indexes 48). @default 48 */
  groupSize?: number;
  /** Questions per tldr example. @default 2 */
  questionsPerExample?: number;
  /** Share of pages held out of training for validation (allowed-but-unseen pages). @default 0.03 */
  validationFraction?: number;
  /** Share of questions asked with their own example removed from the knowledge base. @default 0.2 */
  composeFraction?: number;
  /** Passages in the prompt (the answerer's default). @default 3 */
  passages?: number;
  /** At most this many pages (quick recipes, tests). */
  maxPages?: number;
  /**
   * How the knowledge bases rank passages: `cosine` with no title boost (stage 1, as the committed seedling's corpus
   * hash records), or `serving` = what the runtime does by default (hybrid ranker, title boost 0.3). @default "cosine"
   */
  retrieval?: "cosine" | "serving";
  onProgress?: (line: string) => void;
}

export interface ReadingCorpus {
  examples: ReadingExample[];
  pages: { train: string[]; validation: string[] };
  counts: Record<ReadingKind | "train" | "validation" | "droppedHeldOutLines", number>;
  sha256: string;
}

/** "I don't know" answer taught for questions whose page was not retrieved. */
export const ABSENT_ANSWER = "I don't know for sure: my notes do not cover this.";

/** The answer the seedling is taught: the command first, then the description as one short clause. */
export function readingAnswer({ command, description }: ReadingSourceExample): string {
  const clause = lowerFirst(description.replace(/[.:]\s*$/, ""));
  return `\`${plainTldrCommand(command)}\` — ${clause}.`;
}

const DESCRIPTION = /^- (.+?):?\s*$/;
const COMMAND = /^`(.+)`\s*$/;

/** Parses one page, dropping every example whose description or command line is a held-out page's line. */
export function parseAllowedPage({ page, markdown, heldOut }: { page: string; markdown: string; heldOut: HeldOutPages }): { source: ReadingSourcePage; dropped: number } {
  const lines = markdown.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  const title = (lines.find((line) => line.startsWith("# ")) ?? `# ${page}`).slice(2).trim();
  const summary = lines.filter((line) => line.startsWith("> "));
  const examples: ReadingSourceExample[] = [];
  let dropped = 0;
  for (let i = 0; i < lines.length - 1; i++) {
    const description = DESCRIPTION.exec(lines[i]!);
    const command = COMMAND.exec(lines[i + 1]!);
    if (!description || !command) continue;
    i++;
    if (heldOut.lines.has(lines[i - 1]!) || heldOut.lines.has(lines[i]!)) {
      dropped++;
      continue;
    }
    examples.push({ description: stripMnemonics(description[1]!).trim(), command: command[1]! });
  }
  const body = examples.map((example) => `- ${example.description}:\n\n\`${example.command}\``).join("\n\n");
  return { source: { page, name: title, markdown: `# ${title}\n\n${summary.join("\n")}\n\n${body}\n`, examples }, dropped };
}

/** Every allowed page (first platform folder wins: common, linux, then the rest), held-out pages skipped by name. */
export async function loadAllowedPages({ tldrRoot, heldOut }: { tldrRoot: string; heldOut: HeldOutPages }): Promise<{ pages: ReadingSourcePage[]; dropped: number }> {
  const root = join(tldrRoot, "pages");
  if (!existsSync(root)) throw new CouncilError("DATASET_INVALID", `No tldr pages folder at ${root}.`);
  const folders = (await readdir(root)).sort((a, b) => (a === "common" ? -1 : b === "common" ? 1 : a === "linux" ? -1 : b === "linux" ? 1 : a.localeCompare(b)));
  const seen = new Set<string>();
  const pages: ReadingSourcePage[] = [];
  let dropped = 0;
  for (const folder of folders) {
    for (const file of (await readdir(join(root, folder))).filter((name) => name.endsWith(".md")).sort()) {
      const page = file.slice(0, -3);
      if (seen.has(page) || heldOut.names.has(page)) continue;
      seen.add(page);
      const parsed = parseAllowedPage({ page, markdown: await readFile(join(root, folder, file), "utf8"), heldOut });
      dropped += parsed.dropped;
      if (parsed.source.examples.length > 0) pages.push(parsed.source);
    }
  }
  return { pages, dropped };
}

/** Whether an allowed page is held out of reading pre-training for validation (a fixed hash of its name). */
export function isValidationPage(page: string, fraction: number): boolean {
  return createHash("sha256").update(page).digest().readUInt32BE(0) / 2 ** 32 < fraction;
}

function shuffle<T>(items: T[], random: SeededRandom): T[] {
  for (let index = items.length - 1; index > 0; index--) {
    const other = Math.floor(random.next() * (index + 1));
    [items[index], items[other]] = [items[other]!, items[index]!];
  }
  return items;
}

const passageText = (example: ReadingSourceExample) => `${example.description}:\n\`${example.command}\``;

/**
 * Builds the reading corpus: allowed tldr pages in knowledge bases of `groupSize` pages (plus `kbDir`), indexed and
 * searched by the runtime's own {@link MarkdownKnowledgeBase}; every example's questions rendered with the
 * answerer's own prompt ({@link buildAnswerMessages}) over the passages the runtime would retrieve.
 * - `read`: the example's passage is in the prompt → its command;
 * - `compose`: the example was removed from the knowledge base but its page's other examples were retrieved → its command;
 * - `absent`: nothing of its page was retrieved → {@link ABSENT_ANSWER}.
 */
export async function buildReadingCorpus(options: ReadingCorpusOptions): Promise<ReadingCorpus> {
  const { tldrRoot, kbDir, seed, groupSize = 48, questionsPerExample = 2, validationFraction = 0.03, composeFraction = 0.2, passages = 3, maxPages, retrieval = "cosine", onProgress = () => undefined } = options;
  const heldOut = loadHeldOutPages({ tldrRoot });
  const random = new SeededRandom(seed);
  const loaded = await loadAllowedPages({ tldrRoot, heldOut });
  let pages = loaded.pages;
  if (maxPages !== undefined) pages = shuffle([...pages], new SeededRandom(seed + 1)).slice(0, maxPages).sort((a, b) => a.page.localeCompare(b.page));
  const validation = new Set(pages.filter((page) => isValidationPage(page.page, validationFraction)).map((page) => page.page));
  const trainPages = shuffle(pages.filter((page) => !validation.has(page.page)), random);
  const validationPages = pages.filter((page) => validation.has(page.page));
  const groups: ReadingSourcePage[][] = [];
  for (const list of [trainPages, validationPages]) for (let start = 0; start < list.length; start += groupSize) groups.push(list.slice(start, start + groupSize));
  onProgress(`reading corpus: ${pages.length} allowed pages (${validationPages.length} for validation), ${groups.length} knowledge bases, ${loaded.dropped} held-out lines dropped`);

  const examples: ReadingExample[] = [];
  const counts = { read: 0, compose: 0, absent: 0, train: 0, validation: 0, droppedHeldOutLines: loaded.dropped };
  const work = await mkdtemp(join(tmpdir(), "council-reading-"));
  try {
    for (const [groupIndex, group] of groups.entries()) {
      const dir = join(work, `group-${groupIndex}`);
      await mkdir(dir, { recursive: true });
      for (const page of group) await writeFile(join(dir, `${page.page}.md`), page.markdown);
      // Stage 1: plain cosine (no title boost, no lexical ranker), as when its corpus hash was recorded; the compose stage retrieves as serving does.
      const ranking = retrieval === "serving" ? { titleBoost: DEFAULT_TITLE_BOOST, ranker: hybridRanker() } : { titleBoost: 0, ranker: cosineRanker() };
      const kb = await MarkdownKnowledgeBase.create({ storePath: join(work, `group-${groupIndex}.sqlite`), ...ranking });
      try {
        await kb.index(dir);
        if (kbDir !== undefined) await kb.index(kbDir);
        for (const page of group) {
          const split = validation.has(page.page) ? "validation" : "train";
          for (const example of page.examples) {
            for (let q = 0; q < questionsPerExample; q++) {
              const question = readingQuestion({ description: example.description, name: page.name, variant: Math.floor(random.next() * 1000) });
              const removeOwn = random.next() < composeFraction;
              const own = passageText(example);
              let hits: PassageHit[] = await kb.search(question, { k: removeOwn ? passages + 4 : passages });
              if (removeOwn) hits = hits.filter((hit) => !(hit.passage.title === page.name && hit.passage.text === own));
              hits = hits.slice(0, passages);
              const hasOwn = hits.some((hit) => hit.passage.title === page.name && hit.passage.text === own);
              const hasPage = hits.some((hit) => hit.passage.title === page.name);
              const kind: ReadingKind = hasOwn ? "read" : hasPage ? "compose" : "absent";
              const answer = kind === "absent" ? ABSENT_ANSWER : readingAnswer(example);
              const { prompt, completion } = renderExample(buildAnswerMessages({ question, passages: hits }), answer);
              examples.push({ prompt, completion, page: page.page, kind, split, ...(kind === "absent" ? {} : { command: plainTldrCommand(example.command) }) });
              counts[kind]++;
              counts[split]++;
            }
          }
        }
      } finally {
        await kb.dispose();
      }
      if ((groupIndex + 1) % 10 === 0 || groupIndex === groups.length - 1) onProgress(`reading corpus: ${groupIndex + 1}/${groups.length} knowledge bases, ${examples.length} examples`);
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const hash = createHash("sha256");
  for (const example of examples) hash.update(example.split).update("\u0000").update(example.prompt).update("\u0000").update(example.completion).update("\u0001");
  return { examples, pages: { train: trainPages.map((page) => page.page).sort(), validation: validationPages.map((page) => page.page) }, counts, sha256: hash.digest("hex") };
}
