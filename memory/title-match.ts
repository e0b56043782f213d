/**
 * Named titles: the knowledge-base pages a question names. A user who writes "What cp command would…" or
 * "…using ssh-keygen?" names the page (tldr page `cp`, `ssh-keygen`) whose examples the answer must come from,
 * yet hash embeddings can rank another page's passage first ("copy … in verbose mode" → `mv -v`). The knowledge
 * base adds a boost to the score of every passage of a named page (measured: bench/seedling-reading.ts).
 */

/** Lowercase words of a text: letters, digits, `+` and `#` (`g++`, `c#`); dashes, dots and the rest split words. */
export function titleWords(text: string): string[] {
  return text.toLowerCase().split(/[^\p{L}\p{N}+#]+/u).filter(Boolean);
}

/** Words before a title that name it as the tool to use ("using tar", "with git", "via rsync"). */
const TOOL_BEFORE = new Set(["using", "with", "via"]);
/** Words after a title that name it as a tool ("the cp command", "tar commands"). */
const TOOL_AFTER = new Set(["command", "commands", "tool", "utility"]);

/**
 * Indexes (into `titles`) of the titles the query names *as a tool*: their words appear in a row, right after
 * "using"/"with"/"via" or right before "command"/"tool" ("What cp command…", "…using ssh-keygen?", "With tar, …").
 * A title that is only a word of the question does not count ("How do I *find* my IP address" does not name the
 * `find` page, "…the history of a *file*" not the `file` page), nor does a title inside a longer named title (`ssh`
 * is not named by "ssh keygen command" when `ssh-keygen` is a title too).
 */
export function namedTitles(query: string, titles: ReadonlyArray<readonly string[]>): Set<number> {
  const words = titleWords(query);
  const hits: Array<{ index: number; start: number; length: number }> = [];
  titles.forEach((title, index) => {
    if (title.length === 0 || title.length > words.length) return;
    for (let start = 0; start + title.length <= words.length; start++) {
      const named = TOOL_BEFORE.has(words[start - 1] ?? "") || TOOL_AFTER.has(words[start + title.length] ?? "");
      if (named && title.every((word, offset) => words[start + offset] === word)) {
        hits.push({ index, start, length: title.length });
        return;
      }
    }
  });
  const covered = (inner: (typeof hits)[number]) =>
    hits.some((outer) => outer.length > inner.length && outer.start <= inner.start && inner.start + inner.length <= outer.start + outer.length);
  return new Set(hits.filter((hit) => !covered(hit)).map((hit) => hit.index));
}
