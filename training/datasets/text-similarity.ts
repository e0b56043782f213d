import { createHash } from "node:crypto";

/** Lower-case, strip punctuation, collapse whitespace: the form compared for duplicates and contamination. */
export function normaliseText(text: string): string {
  return text
    .toLowerCase()
    .normalize("NFKC")
    .replace(/[^\p{L}\p{N}\s]+/gu, " ")
    .replace(/\s+/g, " ")
    .trim();
}

export function normalisedHash(text: string): string {
  return createHash("sha256").update(normaliseText(text)).digest("hex");
}

export function words(text: string): string[] {
  const normal = normaliseText(text);
  return normal === "" ? [] : normal.split(" ");
}

/** Word n-grams; a text shorter than n yields itself as its only gram (so short texts still match). */
export function wordNgrams(text: string, n: number): Set<string> {
  const tokens = words(text);
  const grams = new Set<string>();
  if (tokens.length === 0) return grams;
  if (tokens.length < n) {
    grams.add(tokens.join(" "));
    return grams;
  }
  for (let i = 0; i + n <= tokens.length; i++) grams.add(tokens.slice(i, i + n).join(" "));
  return grams;
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const item of a) if (b.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}
