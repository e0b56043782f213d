import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LlamaShape } from "./llama-model.js";

/** Everything that decides the seedling's weights. Its hash (with the corpus and this code) keys the cache. */
export interface SeedlingRecipe {
  version: 1;
  seed: number;
  /** Normal tokenizer pieces (characters + BPE merges); the vocab adds 3 specials and 256 byte tokens. */
  vocabPieces: number;
  shape: LlamaShape;
  /** Std of tok_embd, which llama.cpp's trainer keeps frozen. */
  embeddingStd: number;
  /** Tokens per training sequence (llama-finetune -c; datapoints overlap by half). */
  trainContext: number;
  epochs: number;
  learningRate: number;
  learningRateMin: number;
  decayEpochs: number;
  validationFraction: number;
  systemPrompt: string;
}

/** The answerer's default system prompt (agents/answerer.ts ANSWERER_SYSTEM_PROMPT); models/ may not import agents/. */
export const DEFAULT_SYSTEM_PROMPT =
  "You are Council, an IT helpdesk assistant. Answer the user's question briefly and precisely, using the context when it helps. Give the exact command when one exists.";

/**
 * Sized for the brief's budget (≤ 15 min on 2 cores): measured under heavy contention, one epoch of a
 * 1.1 M-parameter model on this corpus took ~300 CPU-seconds; this 0.64 M-parameter recipe with 4 epochs
 * needs roughly 700-900 CPU-seconds. Note llama-finetune's datapoints overlap by half (stride = context / 2),
 * so one epoch shows every token twice.
 */
export const DEFAULT_SEEDLING_RECIPE: SeedlingRecipe = {
  version: 1,
  seed: 20_241_122,
  vocabPieces: 1024 - 259,
  shape: { embedding: 96, layers: 4, heads: 4, feedForward: 256, contextLength: 2048 },
  embeddingStd: 0.02,
  trainContext: 256,
  epochs: 4,
  learningRate: 1e-3,
  learningRateMin: 2e-4,
  decayEpochs: 4,
  validationFraction: 0.1,
  systemPrompt: DEFAULT_SYSTEM_PROMPT,
};

/** Hash of the source files that turn a recipe into weights (this folder, the tokenizer, the GGUF writer). */
export function seedlingCodeHash(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const hash = createHash("sha256");
  for (const folder of [here, join(here, "..", "tokenizer"), join(here, "..", "gguf"), join(here, "..")]) {
    const files = readdirSync(folder).filter((name) => /\.(ts|js)$/.test(name) && !/\.test\.(ts|js)$/.test(name) && (folder !== join(here, "..") || name.startsWith("prompt-template."))).sort();
    for (const file of files) hash.update(file).update(readFileSync(join(folder, file)));
  }
  return hash.digest("hex");
}

export function recipeKey({ recipe, corpusSha256, codeHash = seedlingCodeHash() }: { recipe: SeedlingRecipe; corpusSha256: string; codeHash?: string }): string {
  return createHash("sha256").update(JSON.stringify(recipe)).update(corpusSha256).update(codeHash).digest("hex").slice(0, 16);
}

/** The default recipe with overrides applied (shape merged key by key). */
export function resolveRecipe(overrides: Partial<SeedlingRecipe> = {}): SeedlingRecipe {
  return { ...DEFAULT_SEEDLING_RECIPE, ...overrides, shape: { ...DEFAULT_SEEDLING_RECIPE.shape, ...overrides.shape } };
}
