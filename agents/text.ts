/** Words that carry little meaning for overlap checks. */
const STOPWORDS = new Set(
  ("a an and are as at be by can could do does did for from has have how i if in into is it its me my of on or " +
    "please should so than that the their then there these this those to use using was we what when where which " +
    "who why will with would you your yours our us also just not no yes any all some more most can't don't")
    .split(" "),
);

/** True for words that carry little meaning ("how", "do", "the", …); `word` is lower-case. */
export function isStopword(word: string): boolean {
  return STOPWORDS.has(word);
}

/** Lower-case word tokens: letters, digits and the punctuation that appears inside commands and paths. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}_./-]*/gu)?.map((word) => word.replace(/[./-]+$/, "")) ?? [];
}

/** Distinct content words (no stopwords, no single characters); compounds also give their parts ("tar.gz" → tar, gz). */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const word of words(text)) {
    if (word.length > 1 && !STOPWORDS.has(word)) out.add(word);
    if (/[./-]/.test(word)) for (const part of word.split(/[./-]+/)) if (part.length > 1 && !STOPWORDS.has(part)) out.add(part);
  }
  return out;
}

/** Share of `subject`'s content words that occur in `reference` (0 when `subject` has none). */
export function overlap(subject: Set<string>, reference: Set<string>): number {
  if (subject.size === 0) return 0;
  let hits = 0;
  for (const word of subject) if (reference.has(word)) hits += 1;
  return hits / subject.size;
}

/** Cosine similarity of two vectors (0 when either is zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    normA += x * x;
    normB += y * y;
  }
  return normA === 0 || normB === 0 ? 0 : dot / Math.sqrt(normA * normB);
}
