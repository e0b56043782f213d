/** One passage before embedding: where it came from, a title (page › section) and the text. */
export interface RawPassage {
  ord: number;
  title: string;
  text: string;
}

export interface SplitOptions {
  /** Longest passage; longer paragraphs are cut at line, then sentence boundaries. @default 1000 */
  maxChars?: number;
  /** Paragraphs shorter than this are merged with the next one in the same section. @default 160 */
  minChars?: number;
}

const TLDR_EXAMPLE = /^- (.+?):?\s*$/;
const TLDR_COMMAND = /^`(.+)`\s*$/;

/** tldr-pages format: `# name`, `> summary` lines, then `- description:` + backticked command pairs. */
export function isTldrPage(markdown: string): boolean {
  const lines = markdown.split(/\r?\n/).filter((line) => line.trim() !== "");
  return /^# \S/.test(lines[0] ?? "") && (lines[1] ?? "").startsWith("> ") && lines.some((line, i) => TLDR_EXAMPLE.test(line) && TLDR_COMMAND.test(lines[i + 1] ?? ""));
}

/** Strips tldr's mnemonic brackets: "E[x]tract a [f]ile" → "Extract a file". */
export function stripMnemonics(text: string): string {
  return text.replace(/\[([^\]\s]{1,3})\]/g, "$1");
}

/**
 * A tldr command with its placeholders as plain text: `{{[-C|--directory]}}` → `-C` (the first spelling),
 * `{{path/to/file}}` → `path/to/file` (braces dropped, content kept).
 */
export function plainTldrCommand(command: string): string {
  return command.replace(/\{\{\[([^\]|]+)\|[^\]]*\]\}\}/g, "$1").replace(/\{\{(.*?)\}\}/g, "$1");
}

/** A tldr page: its summary is one passage, each description + command another. */
export function splitTldrPage(markdown: string): RawPassage[] {
  const lines = markdown.split(/\r?\n/).map((line) => line.trimEnd());
  const name = (lines.find((line) => line.startsWith("# ")) ?? "# page").slice(2).trim();
  const passages: RawPassage[] = [];
  const summary = lines
    .filter((line) => line.startsWith("> ") && !/^> (More information|See also)/i.test(line))
    .map((line) => line.slice(2).trim())
    .join(" ");
  if (summary) passages.push({ ord: 0, title: name, text: `${name}: ${summary}` });
  const nonEmpty = lines.filter((line) => line.trim() !== "");
  for (let i = 0; i < nonEmpty.length - 1; i++) {
    const example = TLDR_EXAMPLE.exec(nonEmpty[i]!);
    const command = TLDR_COMMAND.exec(nonEmpty[i + 1]!);
    if (!example || !command) continue;
    passages.push({ ord: passages.length, title: name, text: `${stripMnemonics(example[1]!)}:\n\`${command[1]}\`` });
    i++;
  }
  return passages;
}

/**
 * Generic markdown: sections by heading (title = "Page › Section"), paragraphs within a section,
 * short paragraphs merged forward (a `Q:` paragraph always stands alone), long ones cut to `maxChars`. Code fences stay whole when they fit.
 */
export function splitMarkdown(markdown: string, { maxChars = 1000, minChars = 160 }: SplitOptions = {}): RawPassage[] {
  const passages: RawPassage[] = [];
  let pageTitle = "";
  let section = "";
  let paragraphs: string[] = [];
  let current: string[] = [];
  let inFence = false;

  const endParagraph = () => {
    const text = current.join("\n").trim();
    if (text) paragraphs.push(text);
    current = [];
  };
  const endSection = () => {
    endParagraph();
    const title = [pageTitle, section].filter(Boolean).join(" › ") || "untitled";
    let pending = "";
    const flush = () => {
      for (const piece of cut(pending, maxChars)) passages.push({ ord: passages.length, title, text: piece });
      pending = "";
    };
    for (const paragraph of paragraphs) {
      // A question-and-answer pair is a passage of its own, whatever its length.
      const standalone = /^(\*\*)?Q[:.]/.test(paragraph);
      if (standalone && pending) flush();
      pending = pending ? `${pending}\n\n${paragraph}` : paragraph;
      if (standalone) {
        flush();
        continue;
      }
      if (pending.length >= minChars) flush();
    }
    if (pending) flush();
    paragraphs = [];
  };

  for (const line of markdown.split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : /^(#{1,6})\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      endSection();
      if (heading[1]!.length === 1 && !pageTitle) pageTitle = heading[2]!;
      else section = heading[2]!;
    } else if (!inFence && line.trim() === "") {
      endParagraph();
    } else {
      current.push(line);
    }
  }
  endSection();
  return passages;
}

function cut(text: string, maxChars: number): string[] {
  if (text.length <= maxChars) return [text];
  const pieces: string[] = [];
  let rest = text;
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars);
    const at = Math.max(window.lastIndexOf("\n"), window.lastIndexOf(". ") + 1);
    const end = at > maxChars / 3 ? at : maxChars;
    pieces.push(rest.slice(0, end).trim());
    rest = rest.slice(end).trim();
  }
  if (rest) pieces.push(rest);
  return pieces;
}

/** Splits one markdown file, choosing the tldr splitter for tldr pages. */
export function splitPassages(markdown: string, options: SplitOptions = {}): RawPassage[] {
  return isTldrPage(markdown) ? splitTldrPage(markdown) : splitMarkdown(markdown, options);
}
