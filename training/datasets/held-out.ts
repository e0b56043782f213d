import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CouncilError } from "../../core/index.js";

/** The tldr held-out list beside the pages: `<tldr>/HELD-OUT.txt`, one `common/tar`-style page a line. */
export interface HeldOutPages {
  /** Page names as listed (`common/tar`). */
  paths: ReadonlySet<string>;
  /** Bare page names (`tar`): a page of that name under any platform folder is held out. */
  names: ReadonlySet<string>;
  /** Every example of every held-out page: its description line and its command line, verbatim (trimmed). */
  lines: ReadonlySet<string>;
}

/**
 * Reads `HELD-OUT.txt` and the held-out pages' examples. No training may read these pages (seedling pre-training,
 * fixtures, recipe tuning): benchmarks ask about them. DATASET_INVALID when the list is missing.
 */
export function loadHeldOutPages({ tldrRoot }: { tldrRoot: string }): HeldOutPages {
  const listPath = join(tldrRoot, "HELD-OUT.txt");
  if (!existsSync(listPath)) throw new CouncilError("DATASET_INVALID", `No held-out list at ${listPath}: the tldr dataset must ship HELD-OUT.txt.`);
  const paths = new Set(
    readFileSync(listPath, "utf8")
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith("#")),
  );
  const names = new Set([...paths].map((path) => path.split("/").pop()!));
  const exampleLines = (file: string) =>
    new Set(
      readFileSync(file, "utf8")
        .split(/\r?\n/)
        .map((raw) => raw.trim())
        .filter((line) => /^- .+/.test(line) || /^`.+`$/.test(line)),
    );
  const held = new Set<string>();
  for (const path of paths) {
    const file = join(tldrRoot, "pages", `${path}.md`);
    if (existsSync(file)) for (const line of exampleLines(file)) held.add(line);
  }
  // A line that an allowed page has too is shared text ("- View documentation for the original command:"), not this page's.
  const pagesRoot = join(tldrRoot, "pages");
  for (const folder of existsSync(pagesRoot) ? readdirSync(pagesRoot) : []) {
    for (const name of readdirSync(join(pagesRoot, folder))) {
      if (!name.endsWith(".md") || paths.has(`${folder}/${name.slice(0, -3)}`)) continue;
      for (const line of exampleLines(join(pagesRoot, folder, name))) held.delete(line);
    }
  }
  const lines: ReadonlySet<string> = held;
  return { paths, names, lines };
}

/** Whether a page (by bare name, e.g. `tar`) is held out. */
export function isHeldOutPage(heldOut: HeldOutPages, page: string): boolean {
  return heldOut.names.has(page.split("/").pop()!.replace(/\.md$/, ""));
}

/**
 * Held-out example lines (description or command, verbatim but case-insensitive) found in `texts`. Long commands are also matched with
 * `{{placeholders}}` resolved the way training renders them, so a rendered copy counts too.
 */
export function findHeldOutLeaks({ heldOut, texts }: { heldOut: HeldOutPages; texts: ReadonlyArray<{ source: string; text: string }> }): Array<{ source: string; line: string }> {
  const needles = new Set<string>();
  // Commands count only as a whole command line (what follows is its end: a quote, a newline, the end of the text):
  // another page's pipeline that *uses* a held-out command (`cat {{file}} | aspell list`) is not that page's example.
  const commands = new Set<string>();
  for (const line of heldOut.lines) {
    if (line.startsWith("- ")) {
      const description = line.slice(2).replace(/:$/, "").trim();
      // Short generic descriptions ("Display help") occur everywhere: only distinctive ones count.
      if (description.length >= 24) needles.add(description.toLowerCase());
    } else {
      const command = line.slice(1, -1);
      // A command with tldr placeholders is the page's own text; a short literal one ("sudo apt update") is common knowledge.
      if (command.includes("{{") || command.length >= 24) commands.add(command.toLowerCase());
      const rendered = command.replace(/\{\{\[([^|\]]*)\|[^\]]*\]\}\}/g, "$1").replace(/\{\{([^}]*)\}\}/g, "$1");
      // Rendered short commands ("sudo apt update") are common knowledge, not a copy of the page.
      if (rendered !== command && rendered.length >= 30) commands.add(rendered.toLowerCase());
    }
  }
  const leaks: Array<{ source: string; line: string }> = [];
  for (const { source, text } of texts) {
    const haystack = text.toLowerCase();
    for (const needle of needles) if (containsAtWordStart(haystack, needle, false)) leaks.push({ source, line: needle });
    for (const command of commands) if (containsAtWordStart(haystack, command, true)) leaks.push({ source, line: command });
  }
  return leaks;
}

/**
 * Whether `needle` occurs as a whole line's text: it starts the text, a line, a list item ("- ") or a quoted span, and
 * ends the text, a line, a quoted span or (descriptions) a sentence. `cat {{file}}` is in "run `cat {{file}}`" but not in
 * "`mcat {{file}}`", "`dalfox file {{file}}`" or "`cat {{file}} | aspell list`"; "Set an environment variable" is not in
 * "Set an environment variable for a container".
 */
function containsAtWordStart(haystack: string, needle: string, wholeCommand: boolean): boolean {
  for (let at = haystack.indexOf(needle); at !== -1; at = haystack.indexOf(needle, at + 1)) {
    const before = haystack[at - 1];
    // A command in single quotes is another command's argument (`smbclient -c 'put {{file}}'`), not a command line.
    const starts = before === undefined || (wholeCommand ? /[`"\n\r]/ : /[`"'\n\r]/).test(before) || (before === " " && haystack[at - 2] === "-" && (at < 3 || haystack[at - 3] === "\n"));
    const after = haystack[at + needle.length];
    const ends = after === undefined || (wholeCommand ? /[`"\n\r]/ : /[`"'\n\r:.?!]/).test(after);
    if (starts && ends) return true;
  }
  return false;
}
