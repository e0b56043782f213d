import { join } from "node:path";
import type { GgufKv } from "../../models/gguf/index.js";
import { writeLlamaModel, type LlamaShape } from "../../models/seedling/index.js";
import { buildSpmVocab, SPM_SPACE } from "../../models/tokenizer/index.js";

export const TINY_MODEL_SHAPE: LlamaShape = { embedding: 64, layers: 2, heads: 4, feedForward: 128, contextLength: 256 };

/** Printable ASCII plus a few whole words, so tokenizing English text uses normal tokens, not only bytes. */
function tinyPieces(): string[] {
  const pieces = [SPM_SPACE];
  for (let code = 0x21; code < 0x7f; code++) pieces.push(String.fromCharCode(code));
  for (const word of ["the", "to", "and", "password", "reset", "file", "user", "disk", "network"]) pieces.push(`${SPM_SPACE}${word}`);
  return pieces;
}

/**
 * Writes a small random llama-architecture F32 GGUF (about 0.2 M parameters, SPM tokenizer with byte
 * fallback) that node-llama-cpp loads and generates from. Deterministic for a seed.
 */
export async function createTinyModel({ dir, seed = 1, name = "tiny-model.gguf", shape = TINY_MODEL_SHAPE, extraKv = [] }: { dir: string; seed?: number; name?: string; shape?: LlamaShape; extraKv?: readonly GgufKv[] }): Promise<string> {
  const path = join(dir, name);
  await writeLlamaModel({ path, name: `tiny-${seed}`, shape, vocab: buildSpmVocab(tinyPieces()), seed, extraKv });
  return path;
}
