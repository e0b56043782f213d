import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { CouncilError } from "../core/index.js";

/** The vector length of `embeddings`: its `dimensions` property when it has one, else measured once. */
export async function embeddingDimensions(embeddings: EmbeddingsInterface): Promise<number> {
  const declared = (embeddings as { dimensions?: unknown }).dimensions;
  if (typeof declared === "number" && Number.isInteger(declared) && declared > 0) return declared;
  const probe = await embeddings.embedQuery("dimension probe");
  if (!Array.isArray(probe) || probe.length === 0) throw new CouncilError("VECTOR_INVALID", "The embeddings returned an empty vector");
  return probe.length;
}

/** Identifies the embedding space: vectors from another class, model or size are not comparable. */
export function embeddingFingerprint(embeddings: EmbeddingsInterface, dimensions: number): string {
  const model = ["model", "modelPath", "modelName"].map((key) => (embeddings as unknown as Record<string, unknown>)[key]).find((value) => typeof value === "string");
  return [embeddings.constructor.name, model, dimensions].filter((part) => part !== undefined).join("/");
}
