import { z } from "zod";
import { BackendRegistry, CouncilError, defineBackend, type Backend } from "../core/index.js";
import { LexicalIndex, type LexicalIndexOptions } from "./lexical-index.js";
import type { Passage } from "./types.js";

/**
 * How the knowledge base ranks passages beyond cosine similarity (and the title boost). `prepare` is called with
 * every passage whenever the indexed passages change; the function it returns gives, for one query, a score to add
 * to each passage's (index-aligned), or `undefined` for nothing to add.
 */
export interface PassageRanker {
  readonly name: string;
  prepare(passages: ReadonlyArray<Pick<Passage, "title" | "text">>): (query: string) => Float32Array | undefined;
}

/**
 * Measured with bench/retrieval-recall.ts on the kb/ questions and allowed (not held-out) tldr pages: 0.3 finds the
 * page of natural kb questions without moving tldr traffic (bench/results/retrieval-recall-*.json).
 */
export const DEFAULT_LEXICAL_WEIGHT = 0.3;

/** Plain cosine (plus the title boost): no extra score. */
export function cosineRanker(): PassageRanker {
  return { name: "cosine", prepare: () => () => undefined };
}

/**
 * Hybrid: cosine + `weight` × BM25 over stemmed words with the title as a heavier field, BM25 scaled so the best
 * passage for the query gets 1 (see {@link LexicalIndex}).
 */
export function hybridRanker({ weight = DEFAULT_LEXICAL_WEIGHT, ...lexical }: { weight?: number } & LexicalIndexOptions = {}): PassageRanker {
  if (!Number.isFinite(weight) || weight < 0) throw new CouncilError("CONFIG_INVALID", `lexical weight must be a number >= 0, got ${weight}`);
  return {
    name: "hybrid",
    prepare(passages) {
      if (weight === 0) return () => undefined;
      const index = new LexicalIndex(passages, lexical);
      return (query) => {
        const scores = index.scores(query);
        for (let i = 0; i < scores.length; i++) scores[i]! *= weight;
        return scores;
      };
    },
  };
}

/** Typed capabilities of a passage ranker. */
export interface PassageRankerCapabilities {
  /** Adds a lexical (word-match) score to cosine similarity. */
  lexical: boolean;
}

export type PassageRankerBackend = Backend<Record<string, never>, PassageRanker, PassageRankerCapabilities>;

/** `cosine`: the embeddings' cosine similarity (plus `kb.titleBoost`), nothing else. */
export const cosineRankerBackend: PassageRankerBackend = defineBackend({
  name: "cosine",
  description: "cosine similarity of the embeddings (plus kb.titleBoost)",
  configSchema: z.object({}),
  capabilities: { lexical: false },
  open: () => cosineRanker(),
});

/** `hybrid`: cosine + `kb.lexicalWeight` × BM25 over stemmed words and titles. */
export const hybridRankerBackend: PassageRankerBackend = defineBackend({
  name: "hybrid",
  description: "cosine + COUNCIL_KB_LEXICAL_WEIGHT × BM25 over stemmed words, titles weighted double",
  configSchema: z.object({ kb: z.object({ lexicalWeight: z.number().min(0) }) }),
  capabilities: { lexical: true },
  open: ({ kb }) => hybridRanker({ weight: kb.lexicalWeight }),
});

/** Passage rankers by name; `kb.ranker` (COUNCIL_KB_RANKER) picks one. */
export const passageRankers = new BackendRegistry<PassageRankerBackend>({ kind: "passage ranker", configKey: "kb.ranker" })
  .register(cosineRankerBackend)
  .register(hybridRankerBackend);
