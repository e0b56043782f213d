import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CouncilError } from "../../core/index.js";
import { plainTldrCommand, stripMnemonics } from "../../memory/index.js";
import type { BenchItem } from "./items.js";

/**
 * tldr-pages → benchmark items.
 *
 * Each `- description:` line and the backticked command under it is one example. The question is the description
 * (mnemonic brackets `[x]` stripped, trailing colon dropped) asked about the page's command; the reference answer
 * is the command with `{{placeholders}}` normalised; `accept` is derived from the command (see {@link deriveAccept}).
 */
export interface TldrExample {
  page: string;
  /** 0-based position of the example on its page. */
  index: number;
  /** Description with mnemonics stripped and no trailing colon. */
  description: string;
  /** The raw backticked command, placeholders untouched. */
  command: string;
}

export interface TldrItem extends BenchItem {
  page: string;
  /** The normalised command: the right answer (used as the 👎 correction). */
  answer: string;
}

/** The 48 common commands used when `--pages` is not given (about 245 traffic and 70 eval items). */
export const DEFAULT_TLDR_PAGES = [
  "tar", "ls", "grep", "find", "chmod", "chown", "cp", "mv", "rm", "mkdir", "ln", "du", "df", "ps", "kill", "top",
  "ssh", "scp", "rsync", "curl", "wget", "git", "sed", "awk", "sort", "uniq", "head", "tail", "cat", "wc", "zip",
  "unzip", "gzip", "ping", "diff", "cut", "xargs", "touch", "less", "date", "systemctl", "journalctl", "ssh-keygen", "lsof",
  "mount", "tree", "man", "crontab",
] as const;



/** Examples on one tldr page, in page order. */
export function parseTldrPage({ page, markdown }: { page: string; markdown: string }): TldrExample[] {
  const lines = markdown.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "");
  const examples: TldrExample[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const description = /^- (.+?):?$/.exec(lines[i]!);
    const command = /^`(.+)`$/.exec(lines[i + 1]!);
    if (!description || !command) continue;
    examples.push({ page, index: examples.length, description: stripMnemonics(description[1]!).trim(), command: command[1]! });
    i++;
  }
  return examples;
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const END = "(?![\\w-])";
const STOP_TOKENS = new Set(["|", "||", "&&", ";", ">", ">>", "<", "2>", "&>"]);

/**
 * Derives the accept regex of a tldr command. Only the part before the first pipe/redirect/`&&`/`;` counts,
 * a leading `sudo` is skipped, and `{{value}}` placeholders never count (any value passes). Required, in order
 * of appearance, all on the same line as the command name:
 * - the **command name**: the first word, extended by the next words while they spell the page name
 *   (page `git-commit` → `git commit`), as a whole word;
 * - a **subcommand word** directly after the name (`apt install`, old-style `tar xvf`), as a whole word that may
 *   carry a leading dash;
 * - every **long flag** `--name[=value]` (the name only);
 * - every letter of a **short flag cluster** `-xvf`, each inside some single-dash cluster, in any order
 *   (`-xvf` passes as `-fxv` or `-x -v -f`); case-sensitive;
 * - an **option placeholder** `{{[-C|--directory]}}`: either spelling.
 * Returns undefined when the command does not start with a literal name (nothing to check).
 */
export function deriveAccept({ page, command }: { page: string; command: string }): string | undefined {
  const options: string[][] = [];
  const masked = command.replace(/\{\{(.*?)\}\}/g, (_match, inner: string) => {
    const alternatives = /^\[(-[^\]]+)\]$/.exec(inner);
    if (alternatives && alternatives[1]!.split("|").every((flag) => /^--?[\w][\w.-]*$/.test(flag))) {
      options.push(alternatives[1]!.split("|"));
      return ` @@OPT${options.length - 1} `;
    }
    return " @@PH ";
  });
  const tokens: string[] = [];
  for (const token of masked.split(/\s+/).filter(Boolean)) {
    if (STOP_TOKENS.has(token) || token.startsWith("|")) break;
    tokens.push(token);
  }
  if (tokens[0] === "sudo") tokens.shift();
  const first = tokens[0];
  if (first === undefined || !/^[\w][\w.+-]*$/.test(first)) return undefined;
  const name = [first];
  const pageParts = page.split("-");
  let at = 1;
  if (pageParts[0] === first) while (at < tokens.length && pageParts[at] !== undefined && tokens[at] === pageParts[at]) name.push(tokens[at++]!);
  const required: string[] = [];
  const word = tokens[at];
  if (word !== undefined && /^[a-z][\w-]*$/i.test(word)) {
    required.push(`[ \\t]-?${escapeRegExp(word)}${END}`);
    at++;
  }
  for (const token of tokens.slice(at)) {
    const option = /^@@OPT(\d+)$/.exec(token);
    if (option) {
      required.push(`[ \\t](?:${options[Number(option[1])]!.map(escapeRegExp).join("|")})${END}`);
    } else if (/^--[\w][\w.-]*/.test(token)) {
      required.push(`[ \\t]${escapeRegExp(/^--[\w][\w.-]*/.exec(token)![0])}${END}`);
    } else if (/^-[A-Za-z0-9]+$/.test(token)) {
      for (const letter of new Set(token.slice(1))) required.push(`[ \\t]-[A-Za-z0-9]*${escapeRegExp(letter)}`);
    }
  }
  const head = `(?:^|[\\s\`'"$(])${name.map(escapeRegExp).join("[ \\t]+")}${END}`;
  return head + required.map((part) => `(?=[^\\n]*${part})`).join("");
}

/** The traffic question for an example. */
export function trafficQuestion({ description, name }: { description: string; name: string }): string {
  return `How do I ${lowerFirst(description)} using ${name}?`;
}

const EVAL_TEMPLATES = [
  (task: string, name: string) => `What ${name} command would ${task}?`,
  (task: string, name: string) => `Show me the ${name} command to ${task}.`,
  (task: string, name: string) => `With ${name}, how can I ${task}?`,
] as const;
const SYNONYMS: Array<[RegExp, string]> = [
  [/\bdisplay\b/gi, "show"],
  [/\bdirectory\b/g, "folder"],
  [/\bdirectories\b/g, "folders"],
  [/\bremove\b/gi, "delete"],
  [/\bspecific\b/g, "particular"],
  [/\bcurrent\b/g, "present"],
  [/\bcreate\b/gi, "make"],
];

/** Deterministic rephrasing for the eval set: a template chosen by the example's position, plus a few synonyms. */
export function rephraseQuestion({ description, name, index }: { description: string; name: string; index: number }): string {
  let task = lowerFirst(description);
  for (const [pattern, replacement] of SYNONYMS) task = task.replace(pattern, replacement);
  return EVAL_TEMPLATES[index % EVAL_TEMPLATES.length]!(task, name);
}

function lowerFirst(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0]!.toLowerCase() + text.slice(1) : text;
}

/** Where a page lives: `<root>/common/<page>.md`, then `<root>/linux/<page>.md`, then `<root>/<page>.md`. */
export function findTldrPage({ root, page }: { root: string; page: string }): string | undefined {
  if (!/^[\w][\w.+-]*$/.test(page)) throw new CouncilError("CONFIG_INVALID", `--pages: ${JSON.stringify(page)} is not a tldr page name.`);
  return ["common", "linux", "."].map((folder) => join(root, folder, `${page}.md`)).find((path) => existsSync(path));
}

export interface TldrBench {
  traffic: TldrItem[];
  eval: TldrItem[];
  /** Knowledge-base pages: each chosen page with its eval examples removed (so the eval set is never indexed). */
  kbPages: Array<{ page: string; markdown: string }>;
}

export interface BuildTldrBenchOptions {
  /** A tldr `pages` folder (with common/ and linux/) or a folder of page files. */
  root: string;
  /** @default DEFAULT_TLDR_PAGES */
  pages?: readonly string[];
  /** Most traffic items, taken round-robin across pages (every page's first example, then every second…). */
  limit?: number;
  /** Most eval items. @default a third of the traffic items, rounded up */
  evalLimit?: number;
}

/** Every 4th example of a page (index 3, 7, …) is held out for eval; the rest is traffic. */
export const isEvalExample = (example: Pick<TldrExample, "index">) => example.index % 4 === 3;

/**
 * Builds traffic, eval and knowledge-base pages from tldr. Eval items are *other* examples of the same commands
 * (never traffic examples), rephrased; they are removed from the knowledge-base copy of their page.
 */
export function buildTldrBench({ root, pages = DEFAULT_TLDR_PAGES, limit, evalLimit }: BuildTldrBenchOptions): TldrBench {
  if (!existsSync(root)) throw new CouncilError("CONFIG_INVALID", `--traffic: no tldr pages folder at ${root}.`);
  const names = pages.length > 0 ? pages : readdirSync(join(root, "common")).filter((file) => file.endsWith(".md")).map((file) => file.slice(0, -3)).sort();
  const perPage: Array<{ page: string; markdown: string; traffic: TldrItem[]; eval: TldrItem[] }> = [];
  for (const page of names) {
    const path = findTldrPage({ root, page });
    if (path === undefined) throw new CouncilError("CONFIG_INVALID", `--pages: no tldr page ${page} under ${root}.`);
    const markdown = readFileSync(path, "utf8");
    const traffic: TldrItem[] = [];
    const evalItems: TldrItem[] = [];
    for (const example of parseTldrPage({ page, markdown })) {
      const pattern = deriveAccept({ page, command: example.command });
      if (pattern === undefined) continue;
      const name = page.replace(/-/g, " ");
      const base = { page, answer: plainTldrCommand(example.command), accept: [pattern] };
      if (isEvalExample(example)) evalItems.push({ id: `tldr-eval-${page}-${example.index}`, question: rephraseQuestion({ description: example.description, name, index: example.index }), ...base });
      else traffic.push({ id: `tldr-${page}-${example.index}`, question: trafficQuestion({ description: example.description, name }), ...base });
    }
    perPage.push({ page, markdown, traffic, eval: evalItems });
  }
  const traffic = roundRobin(perPage.map((entry) => entry.traffic), limit);
  const used = new Set(traffic.map((item) => item.page));
  const evalItems = roundRobin(perPage.filter((entry) => used.has(entry.page)).map((entry) => entry.eval), evalLimit ?? Math.ceil(traffic.length / 3));
  const kbPages = perPage.filter((entry) => used.has(entry.page)).map(({ page, markdown }) => ({ page, markdown: withoutEvalExamples(markdown) }));
  return { traffic, eval: evalItems, kbPages };
}

function roundRobin<T>(lists: T[][], limit: number | undefined): T[] {
  const out: T[] = [];
  const max = limit ?? Number.POSITIVE_INFINITY;
  for (let round = 0; out.length < max; round++) {
    let any = false;
    for (const list of lists) {
      if (round >= list.length) continue;
      any = true;
      if (out.length < max) out.push(list[round]!);
    }
    if (!any) break;
  }
  return out;
}

/** The page with its eval examples (description line + command line) removed. */
export function withoutEvalExamples(markdown: string): string {
  const lines = markdown.split(/\r?\n/);
  const out: string[] = [];
  let index = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^- .+/.test(line.trim())) {
      let next = i + 1;
      while (next < lines.length && lines[next]!.trim() === "") next++;
      if (next < lines.length && /^`.+`$/.test(lines[next]!.trim())) {
        const drop = isEvalExample({ index });
        index++;
        if (drop) {
          i = next;
          while (i + 1 < lines.length && lines[i + 1]!.trim() === "") i++;
          continue;
        }
      }
    }
    out.push(line);
  }
  return out.join("\n");
}

/** Traffic asked in eval wording: each traffic item's description, rephrased as {@link rephraseQuestion} does. */
export function paraphrasedTraffic(items: readonly TldrItem[], root: string): TldrItem[] {
  return items.map((item) => {
    const examples = parseTldrPage({ page: item.page, markdown: readFileSync(findTldrPage({ root, page: item.page })!, "utf8") });
    const index = Number(item.id.slice(item.id.lastIndexOf("-") + 1));
    return { ...item, id: `${item.id}-para`, question: rephraseQuestion({ description: examples[index]!.description, name: item.page.replace(/-/g, " "), index }) };
  });
}
