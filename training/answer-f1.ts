/** Whitespace tokens, lower-cased, surrounding punctuation kept (commands are mostly punctuation). */
function tokens(text: string): string[] {
  return text.toLowerCase().split(/\s+/).filter(Boolean);
}

/** SQuAD-style token F1 between an answer and a reference: 1 for the same multiset of tokens, 0 for none shared. */
export function tokenF1(answer: string, reference: string): number {
  const a = tokens(answer);
  const r = tokens(reference);
  if (a.length === 0 || r.length === 0) return a.length === r.length ? 1 : 0;
  const counts = new Map<string, number>();
  for (const token of r) counts.set(token, (counts.get(token) ?? 0) + 1);
  let shared = 0;
  for (const token of a) {
    const left = counts.get(token) ?? 0;
    if (left > 0) {
      shared += 1;
      counts.set(token, left - 1);
    }
  }
  if (shared === 0) return 0;
  const precision = shared / a.length;
  const recall = shared / r.length;
  return (2 * precision * recall) / (precision + recall);
}

/** The answer part of a generation: up to the template's end marker (`\n###`) or the first blank line. */
export function cutAnswer(generated: string): string {
  const end = generated.search(/\n###|\n\n/);
  return (end >= 0 ? generated.slice(0, end) : generated).trim();
}
