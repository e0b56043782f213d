import { SPM_SPACE } from "./spm-vocab.js";

export interface LearnBpeOptions {
  /** Training text (raw; spaces are turned into ▁ here, as llama.cpp's SPM tokenizer does). */
  text: string;
  /** Number of normal pieces to learn (characters + merges); the final vocab adds 3 specials and 256 bytes. */
  pieces: number;
  /** Characters seen fewer times than this are left to byte fallback. @default 2 */
  minCharCount?: number;
  /** Longest piece, in characters. @default 16 */
  maxPieceLength?: number;
}

export interface LearnedBpe {
  /** Characters first (most frequent first), then merged pieces in merge order. */
  pieces: string[];
  characters: number;
  merges: number;
}

type CharClass = 0 | 1 | 2 | 3;
/** Letters, digits, whitespace/newline, punctuation. Merges never join two classes (▁ joins a following word). */
function charClass(char: string): CharClass {
  if (/\p{L}/u.test(char)) return 0;
  if (/\p{N}/u.test(char)) return 1;
  if (char === "\n" || char === SPM_SPACE) return 2;
  return 3;
}

/** Text → SPM form: a leading ▁ (llama's add_space_prefix) and ▁ for each space. */
export function toSpmText(text: string): string {
  return SPM_SPACE + text.replaceAll(" ", SPM_SPACE);
}

/** Splits SPM text into words: ▁ attaches to the run of letters, digits or punctuation that follows it. */
export function preTokenize(spmText: string): string[] {
  return spmText.match(/▁?\p{L}+|▁?\p{N}+|▁?[^\p{L}\p{N}\s▁]+|\n+|▁+/gu) ?? [];
}

/**
 * Learns a byte-pair-encoding vocabulary: start from the characters of the corpus, then repeatedly add the
 * most frequent adjacent pair (ties broken by the pair's text, so the result is deterministic). Pairs never
 * cross a letter/digit/punctuation boundary, so pieces stay word-like.
 */
export function learnBpe({ text, pieces, minCharCount = 2, maxPieceLength = 16 }: LearnBpeOptions): LearnedBpe {
  const wordCounts = new Map<string, number>();
  for (const word of preTokenize(toSpmText(text))) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);

  const charCounts = new Map<string, number>();
  for (const [word, count] of wordCounts) for (const char of word) charCounts.set(char, (charCounts.get(char) ?? 0) + count);
  const characters = [...charCounts.entries()]
    .filter(([, count]) => count >= minCharCount)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([char]) => char)
    .slice(0, pieces);
  const known = new Set(characters);

  // Each word as a list of symbols; unknown characters are barriers (byte fallback at inference).
  const words = [...wordCounts.entries()].map(([word, count]) => ({ symbols: [...word], count })).filter((word) => word.symbols.length > 1);
  const result = [...characters];
  const canJoin = (left: string, right: string): boolean => {
    if (!known.has(left) || !known.has(right)) return false;
    if ([...left].length + [...right].length > maxPieceLength) return false;
    const leftChars = [...left];
    const leftClass = charClass(leftChars[leftChars.length - 1] ?? "");
    const rightClass = charClass([...right][0] ?? "");
    if (leftClass === rightClass) return leftClass !== 2 || (left.startsWith(SPM_SPACE) && right.startsWith(SPM_SPACE)) || left.startsWith("\n");
    // "▁" + word start is the one allowed cross-class join.
    return left === SPM_SPACE.repeat(leftChars.length) && rightClass !== 2;
  };

  const joinable = new Map<string, boolean>();
  while (result.length < pieces) {
    const pairCounts = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let index = 0; index + 1 < symbols.length; index++) {
        const left = symbols[index] ?? "";
        const right = symbols[index + 1] ?? "";
        const key = `${left}\u0000${right}`;
        let allowed = joinable.get(key);
        if (allowed === undefined) {
          allowed = canJoin(left, right);
          joinable.set(key, allowed);
        }
        if (!allowed) continue;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 1;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    const [left = "", right = ""] = best.split("\u0000");
    const merged = left + right;
    if (!known.has(merged)) {
      known.add(merged);
      result.push(merged);
    }
    for (const word of words) {
      const { symbols } = word;
      if (symbols.length < 2) continue;
      const next: string[] = [];
      for (let index = 0; index < symbols.length; index++) {
        if (symbols[index] === left && symbols[index + 1] === right) {
          next.push(merged);
          index++;
        } else {
          next.push(symbols[index] ?? "");
        }
      }
      word.symbols = next;
    }
  }
  return { pieces: result, characters: characters.length, merges: result.length - characters.length };
}
