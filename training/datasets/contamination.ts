import { normaliseText, normalisedHash, wordNgrams } from "./text-similarity.js";

export interface EvalItem {
  id: string;
  question: string;
}

export interface EvalSet {
  name: string;
  items: readonly EvalItem[];
}

export interface ContaminationHit {
  /** Training example id. */
  exampleId: string;
  evalSet: string;
  evalId: string;
  reason: "exact" | "ngram";
}

/** @default 13, the n of the GPT-3 contamination study. */
export const CONTAMINATION_NGRAM = 13;

/**
 * Indexes every eval set once; `check` then reports each training text that repeats an eval question
 * (same normalised text) or shares an n-gram with it. Eval questions shorter than n words match when
 * they occur whole, as a contiguous word sequence.
 */
export class ContaminationIndex {
  readonly #hashes = new Map<string, Array<{ evalSet: string; evalId: string }>>();
  readonly #grams = new Map<string, Array<{ evalSet: string; evalId: string }>>();
  readonly #short: Array<{ text: string; evalSet: string; evalId: string }> = [];
  readonly #n: number;

  constructor({ evalSets, n = CONTAMINATION_NGRAM }: { evalSets: readonly EvalSet[]; n?: number }) {
    this.#n = n;
    for (const set of evalSets) {
      for (const item of set.items) {
        const ref = { evalSet: set.name, evalId: item.id };
        push(this.#hashes, normalisedHash(item.question), ref);
        const normal = normaliseText(item.question);
        if (normal === "") continue;
        if (normal.split(" ").length < n) this.#short.push({ text: normal, ...ref });
        else for (const gram of wordNgrams(normal, n)) push(this.#grams, gram, ref);
      }
    }
  }

  /** Checks the texts of one training example (its question and target answer, not retrieved context). */
  check(exampleId: string, texts: readonly string[]): ContaminationHit[] {
    const hits = new Map<string, ContaminationHit>();
    const add = (ref: { evalSet: string; evalId: string }, reason: ContaminationHit["reason"]) => {
      const key = `${ref.evalSet}\u0000${ref.evalId}`;
      if (!hits.has(key)) hits.set(key, { exampleId, ...ref, reason });
    };
    for (const text of texts) {
      for (const ref of this.#hashes.get(normalisedHash(text)) ?? []) add(ref, "exact");
      const normal = ` ${normaliseText(text)} `;
      for (const short of this.#short) if (normal.includes(` ${short.text} `)) add(short, "ngram");
      for (const gram of wordNgrams(text, this.#n)) for (const ref of this.#grams.get(gram) ?? []) add(ref, "ngram");
    }
    return [...hits.values()];
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
