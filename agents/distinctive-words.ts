import type { PassageHit } from "../memory/index.js";
import { fitWords, negatedWords, parseQuestion } from "./question-fit.js";
import { words } from "./text.js";

/** In how many knowledge-base passages a word occurs (`KnowledgeBase.documentFrequency`); undefined for a stopword. */
export type DocumentFrequency = (word: string) => number | undefined;

/**
 * The question's distinctive words: of its task words (see {@link fitWords}) that the retrieved passages use, the
 * ones rarest in the whole knowledge base (ties: all of them). An answer quoted from the notes must cover one:
 * "how do I find which process uses a port?" against a Processes page must not be answered with `pgrep`, which
 * covers the common "find" and "process" but not "port" (in 11 kb/ passages, against 14 and 17). A word no
 * retrieved passage uses is left out: the notes cannot answer it either way ("a program that *hangs*" is answered
 * by `kill`), so it says nothing about which unit to quote. So is a word the question negates ("do *not overwrite*
 * existing files"): the unit that answers negates it too, and a negated word counts as not covered. Empty when
 * nothing qualifies.
 */
export function distinctiveWords(question: string, hits: readonly PassageHit[], documentFrequency: DocumentFrequency, { passages = 5 }: { passages?: number } = {}): Set<string> {
  const { task } = parseQuestion(question);
  const negated = negatedWords(task);
  const taskWords = fitWords(task);
  const noted = new Set<string>();
  for (const { passage } of hits.slice(0, passages)) for (const word of fitWords(`${passage.title} ${passage.text}`)) noted.add(word);
  const rarity = new Map<string, number>();
  for (const token of words(task)) {
    for (const part of token.split(/[./-]+/)) {
      const frequency = documentFrequency(part);
      if (frequency === undefined || frequency === 0) continue;
      for (const word of fitWords(part)) {
        // "not" is meaning, but no topic: it cannot tell one unit's subject from another's.
        if (word === "not" || negated.has(word) || !taskWords.has(word) || !noted.has(word)) continue;
        rarity.set(word, Math.min(frequency, rarity.get(word) ?? Infinity));
      }
    }
  }
  const rarest = Math.min(...rarity.values());
  return new Set([...rarity].filter(([, frequency]) => frequency === rarest).map(([word]) => word));
}
