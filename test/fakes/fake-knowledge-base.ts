import type { KnowledgeBase, Passage, PassageHit } from "../../memory/types.js";

/**
 * A knowledge base over a fixed list of passages for unit tests: ranks by the share of query words found
 * in the passage (title + text), drops passages with no shared word. Records its queries.
 */
export class FakeKnowledgeBase implements KnowledgeBase {
  readonly queries: string[] = [];
  readonly #passages: Passage[];

  constructor(passages: Array<Partial<Passage> & Pick<Passage, "title" | "text">>) {
    this.#passages = passages.map((passage, index) => ({ id: passage.id ?? `p${index + 1}`, source: passage.source ?? `${index + 1}.md`, ...passage }));
  }

  async search(query: string, { k = 3 }: { k?: number } = {}): Promise<PassageHit[]> {
    this.queries.push(query);
    const queryWords = new Set(tokens(query));
    if (queryWords.size === 0) return [];
    return this.#passages
      .map((passage) => {
        const words = new Set(tokens(`${passage.title} ${passage.text}`));
        let hits = 0;
        for (const word of queryWords) if (words.has(word)) hits += 1;
        return { passage, score: hits / queryWords.size };
      })
      .filter((hit) => hit.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, k);
  }

  size(): number {
    return this.#passages.length;
  }

  async dispose(): Promise<void> {}
}

function tokens(text: string): string[] {
  return (text.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((word) => word.length > 2);
}
