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

/**
 * Indexes (into `titles`) of the titles whose words appear in a row in the query's words. A title inside a longer
 * named title does not count (`ssh` is not named by "ssh keygen" when `ssh-keygen` is a title too).
 */
export function namedTitles(query: string, titles: ReadonlyArray<readonly string[]>): Set<number> {
  const words = titleWords(query);
  const hits: Array<{ index: number; start: number; length: number }> = [];
  titles.forEach((title, index) => {
    if (title.length === 0 || title.length > words.length) return;
    for (let start = 0; start + title.length <= words.length; start++) {
      if (title.every((word, offset) => words[start + offset] === word)) {
        hits.push({ index, start, length: title.length });
        return;
      }
    }
  });
  const covered = (inner: (typeof hits)[number]) =>
    hits.some((outer) => outer.length > inner.length && outer.start <= inner.start && inner.start + inner.length <= outer.start + outer.length);
  return new Set(hits.filter((hit) => !covered(hit)).map((hit) => hit.index));
}
