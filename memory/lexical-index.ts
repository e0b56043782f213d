/**
 * Lexical retrieval for the knowledge base: BM25 over stemmed words, with the page/section title as a second,
 * heavier field. Hash embeddings match a question to a passage only through the same surface words and character
 * trigrams, so "which user *owns* a file" misses a section about the file's *owner*; a light stemmer
 * (owns/owner/ownership → own) and question-word stripping ("how can I find out which…") fix much of that, and
 * BM25's idf weighs a rare shared word ("owner") above a common one ("file").
 */

/** Question and filler words dropped from queries and passages alike (kept: command words such as "find", "all"). */
export const LEXICAL_STOPWORDS = new Set(
  ("a an and are as at be by can could do does did for from how i i'm in is it its me my of on or please should so " +
    "that the this these those to what when where which who whom whose why will would with you your we our us " +
    "there their them they into about via using want need way tell get got if then than also just some").split(" "),
);

/** Undoubles a final double consonant left by a cut suffix ("runn" → "run"), except l, s and z ("install", "pass"). */
function undouble(stem: string): string {
  const last = stem[stem.length - 1];
  return stem.length > 3 && last === stem[stem.length - 2] && /[b-df-hj-kmnp-rtv-y]/.test(last ?? "") ? stem.slice(0, -1) : stem;
}

/**
 * A light English stemmer (a small subset of Porter's rules): plurals, -ing, -ed, -er, -ion, -ership and a final
 * -e, each only where at least three letters remain, so short words and command names (`ls`, `tar`, `user`) stay
 * whole. Not a linguist's stemmer: it only has to map the forms of one word to one key. "owns", "owner",
 * "ownership", "owned" → "own"; "deleting", "deleted", "deletion", "delete" → "delet".
 */
export function stemWord(word: string): string {
  let w = word;
  if (w.length <= 3 || /\d/.test(w)) return w;
  if (w.endsWith("ies") && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith("sses")) w = w.slice(0, -2);
  else if (/(x|z|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith("s") && !/(ss|us|is)$/.test(w)) w = w.slice(0, -1);
  for (const suffix of ["ership", "ing", "ion", "ed", "er"]) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3) {
      w = undouble(w.slice(0, -suffix.length));
      break;
    }
  }
  if (w.endsWith("e") && w.length >= 4) w = w.slice(0, -1);
  return w;
}

/** The terms of a text: lower-case words (letters, digits, `+`, `#`), stopwords dropped, stemmed. */
export function lexicalTerms(text: string): string[] {
  const words = text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLowerCase()
    .match(/[\p{L}\p{N}+#']+/gu);
  return (words ?? []).map((word) => word.replace(/^'+|'+$/g, "")).filter((word) => word !== "" && !LEXICAL_STOPWORDS.has(word)).map(stemWord);
}

export interface LexicalIndexOptions {
  /** BM25 term-frequency saturation. @default 1.2 */
  k1?: number;
  /** BM25 length normalisation (0 = none, 1 = full). @default 0.75 */
  b?: number;
  /** How many text occurrences one title occurrence counts as. @default 2 */
  titleWeight?: number;
}

/**
 * BM25F-lite over a fixed list of documents (title + text). Built once from the passages; `scores` gives every
 * document's BM25 score for a query divided by the best one, so scores lie in [0, 1] (all 0 when nothing matches)
 * and can be added to cosine similarities with one weight.
 */
export class LexicalIndex {
  readonly size: number;
  readonly #postings = new Map<string, { docs: number[]; tf: number[] }>();
  readonly #length: Float32Array;
  readonly #avgLength: number;
  readonly #k1: number;
  readonly #b: number;

  constructor(documents: ReadonlyArray<{ title: string; text: string }>, { k1 = 1.2, b = 0.75, titleWeight = 2 }: LexicalIndexOptions = {}) {
    this.size = documents.length;
    this.#k1 = k1;
    this.#b = b;
    this.#length = new Float32Array(documents.length);
    let total = 0;
    documents.forEach(({ title, text }, doc) => {
      const counts = new Map<string, number>();
      for (const term of lexicalTerms(title)) counts.set(term, (counts.get(term) ?? 0) + titleWeight);
      for (const term of lexicalTerms(text)) counts.set(term, (counts.get(term) ?? 0) + 1);
      let length = 0;
      for (const [term, tf] of counts) {
        let posting = this.#postings.get(term);
        if (posting === undefined) this.#postings.set(term, (posting = { docs: [], tf: [] }));
        posting.docs.push(doc);
        posting.tf.push(tf);
        length += tf;
      }
      this.#length[doc] = length;
      total += length;
    });
    this.#avgLength = documents.length > 0 ? total / documents.length : 1;
  }

  /** Each document's BM25 score for `query` over the best document's (0 everywhere when no term matches). */
  scores(query: string): Float32Array {
    const out = new Float32Array(this.size);
    const n = this.size;
    let best = 0;
    for (const term of new Set(lexicalTerms(query))) {
      const posting = this.#postings.get(term);
      if (posting === undefined) continue;
      const df = posting.docs.length;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      for (let j = 0; j < df; j++) {
        const doc = posting.docs[j]!;
        const tf = posting.tf[j]!;
        const norm = this.#k1 * (1 - this.#b + (this.#b * this.#length[doc]!) / this.#avgLength);
        out[doc]! += (idf * tf * (this.#k1 + 1)) / (tf + norm);
        if (out[doc]! > best) best = out[doc]!;
      }
    }
    if (best > 0) for (let i = 0; i < n; i++) out[i]! /= best;
    return out;
  }
}
