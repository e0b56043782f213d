import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { CouncilError } from "../../core/index.js";

export interface HashEmbeddingsOptions extends EmbeddingsParams {
  /** Vector length. @default 384 */
  dimensions?: number;
  /** Characters of each text that are embedded (the rest is ignored, bounding the cost). @default 16384 */
  maxChars?: number;
}

/** Relative weight of each feature family before sublinear tf and L2 normalisation. */
const WEIGHTS = { unigram: 1, stopword: 0.15, bigram: 0.6, trigram: 0.25 } as const;

/** Words that carry little meaning in helpdesk questions ("how do I …"): kept, but weighted down. */
const STOPWORDS = new Set(
  ("a an and are as at be by can do does for from how i in is it me my of on or please should that the this to " +
    "what when where which who why will with you your we our us")
    .split(" "),
);

/**
 * Deterministic embeddings that need no weights and no network: word unigrams, word bigrams and
 * character trigrams of each word, hashed into `dimensions` buckets with a signed hash (the sign
 * halves collision bias), sublinear tf (1 + ln tf), then L2-normalised so inner product = cosine.
 * Good at keyword overlap (helpdesk text, command names, error codes), blind to synonyms.
 * The same text always gives the same vector, on every machine and Node version.
 */
export class HashEmbeddings extends Embeddings {
  readonly dimensions: number;
  readonly maxChars: number;

  constructor({ dimensions = 384, maxChars = 16_384, ...params }: HashEmbeddingsOptions = {}) {
    super(params);
    if (!Number.isInteger(dimensions) || dimensions < 16 || dimensions > 8192) {
      throw new CouncilError("CONFIG_INVALID", `HashEmbeddings dimensions must be an integer in [16, 8192], got ${dimensions}`);
    }
    if (!Number.isInteger(maxChars) || maxChars < 1) {
      throw new CouncilError("CONFIG_INVALID", `HashEmbeddings maxChars must be a positive integer, got ${maxChars}`);
    }
    this.dimensions = dimensions;
    this.maxChars = maxChars;
  }

  override async embedDocuments(documents: string[]): Promise<number[][]> {
    return documents.map((text) => Array.from(this.embedSync(text)));
  }

  override async embedQuery(document: string): Promise<number[]> {
    return Array.from(this.embedSync(document));
  }

  /**
   * The vector of `text`, synchronously (callers on hot paths skip the promise and the copy).
   * An empty or symbol-only text gives the zero vector (similarity 0 to everything).
   */
  embedSync(text: string): Float32Array {
    const features = new Map<string, number>();
    const add = (key: string, weight: number) => features.set(key, (features.get(key) ?? 0) + weight);
    const words = tokenize(text.slice(0, this.maxChars));
    for (let i = 0; i < words.length; i++) {
      const word = words[i]!;
      const stop = STOPWORDS.has(word);
      add(`w:${word}`, stop ? WEIGHTS.stopword : WEIGHTS.unigram);
      const next = words[i + 1];
      if (next !== undefined) add(`b:${word} ${next}`, stop && STOPWORDS.has(next) ? WEIGHTS.stopword : WEIGHTS.bigram);
      if (!stop && word.length > 3) {
        const padded = `<${word}>`;
        for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, WEIGHTS.trigram);
      }
    }
    const vector = new Float64Array(this.dimensions);
    for (const [key, mass] of features) {
      const hash = hash32(key);
      // Sublinear tf on the accumulated weight: repeated words count, but not linearly.
      const weight = mass >= 1 ? 1 + Math.log(mass) : mass;
      vector[(hash & 0x7fff_ffff) % this.dimensions]! += hash & 0x8000_0000 ? -weight : weight;
    }
    let norm = 0;
    for (const value of vector) norm += value * value;
    const out = new Float32Array(this.dimensions);
    if (norm === 0) return out;
    const scale = 1 / Math.sqrt(norm);
    for (let i = 0; i < vector.length; i++) out[i] = vector[i]! * scale;
    return out;
  }
}

/** Lower-case words and numbers, accents stripped; `-`, `.` and `_` inside a token split it. */
export function tokenize(text: string): string[] {
  return (
    text
      .normalize("NFKD")
      .replace(/\p{M}+/gu, "")
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

/** FNV-1a over UTF-16 code units, then murmur3's fmix32 avalanche (low bits index, top bit signs). */
function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
