import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isCouncilError, SEEDLING_PATH } from "../../core/index.js";
import { createTinyModel } from "../../test/helpers/tiny-model.js";
import { embeddingsContract } from "./embeddings.contract.js";
import { LlamaEmbeddings } from "./llama-embeddings.js";

embeddingsContract("llama (GGUF through node-llama-cpp)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "council-llama-emb-"));
  const modelPath = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await createTinyModel({ dir, seed: 4 });
  const embeddings = await LlamaEmbeddings.create({ modelPath, threads: 1 });
  return {
    embeddings,
    dispose: async () => {
      await embeddings.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("LlamaEmbeddings", () => {
  it("has the model's embedding width and embeds over-long text without failing", async () => {
    const dir = await mkdtemp(join(tmpdir(), "council-llama-emb-"));
    const modelPath = await createTinyModel({ dir, seed: 4 });
    const embeddings = await LlamaEmbeddings.create({ modelPath, threads: 1, contextSize: 64 });
    try {
      expect(embeddings.dimensions).toBe(64);
      const vector = await embeddings.embedQuery("reset the password of the user ".repeat(40));
      expect(vector).toHaveLength(64);
      expect(vector.every(Number.isFinite)).toBe(true);
    } finally {
      await embeddings.dispose();
      await rm(dir, { recursive: true, force: true });
    }
    const after = await embeddings.embedQuery("x").catch((caught: unknown) => caught);
    expect(isCouncilError(after, "BACKEND_UNAVAILABLE")).toBe(true);
  });
});
