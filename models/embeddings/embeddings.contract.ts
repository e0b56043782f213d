import type { Embeddings } from "@langchain/core/embeddings";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

export interface EmbeddingsContractSubject {
  embeddings: Embeddings;
  dispose(): Promise<void>;
}

const TEXTS = ["How do I reset my password?", "The printer on floor 3 is offline.", "List files with ls -la", "How do I reset my password?"];

/** The behaviour every Council embeddings backend shares, run against each real backend. */
export function embeddingsContract(name: string, setup: () => Promise<EmbeddingsContractSubject>): void {
  describe(`embeddings backend contract: ${name}`, () => {
    let subject: EmbeddingsContractSubject;
    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it("embeds a query as a finite vector of fixed length", async () => {
      const first = await subject.embeddings.embedQuery(TEXTS[0]!);
      const second = await subject.embeddings.embedQuery(TEXTS[1]!);
      expect(first.length).toBeGreaterThan(0);
      expect(second.length).toBe(first.length);
      expect(first.every(Number.isFinite)).toBe(true);
      expect(first.some((value) => value !== 0)).toBe(true);
    });

    it("is deterministic: the same text gives the same vector", async () => {
      const a = await subject.embeddings.embedQuery(TEXTS[0]!);
      const b = await subject.embeddings.embedQuery(TEXTS[0]!);
      expect(b).toEqual(a);
    });

    it("embeds documents in order, each as its query vector", async () => {
      const vectors = await subject.embeddings.embedDocuments(TEXTS);
      expect(vectors).toHaveLength(TEXTS.length);
      for (const [index, text] of TEXTS.entries()) {
        const query = await subject.embeddings.embedQuery(text);
        for (const [i, value] of query.entries()) expect(vectors[index]![i]).toBeCloseTo(value, 4);
      }
      expect(vectors[3]).toEqual(vectors[0]);
      expect(vectors[1]).not.toEqual(vectors[0]);
    });

    it("embeds an empty batch as no vectors", async () => {
      expect(await subject.embeddings.embedDocuments([])).toEqual([]);
    });

    it("is unit length, so inner product is cosine similarity", async () => {
      const vector = await subject.embeddings.embedQuery(TEXTS[2]!);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 3);
    });
  });
}
