/**
 * A random-weight model of a real model's shape, written straight as Q8_0 with the project's GGUF writer (one
 * tensor in memory at a time, no F32 copy of the model), for speed benchmarks at real size:
 * `npx council bench perf --make-model models/qwen2.5-0.5b-shaped-q8_0.gguf`.
 *
 * Architecture `qwen2` (llama.cpp's, with q/k/v biases and tied output embeddings, as Qwen2.5-0.5B has). The
 * tokenizer is the seedling's (SentencePiece, 2048 pieces) padded with plain pieces up to the shape's vocab
 * (151 936 for Qwen2.5), so the embedding and output projection cost what Qwen2.5-0.5B's do while prompts still
 * tokenize like the seedling's. Weights are uniform with std 0.02, norms 1, biases 0: the text is garbage, the
 * compute per token is the real model's.
 */
import { existsSync } from "node:fs";
import { CouncilError, SEEDLING_PATH } from "../../core/index.js";
import { GGML_TYPE_Q8_0, quantizeQ8_0, Q8_0_BLOCK_BYTES, readGguf, SeededRandom, writeGguf, type GgufKv, type GgufTensorInput } from "../../models/gguf/index.js";

export interface RandomModelShape {
  embedding: number;
  layers: number;
  heads: number;
  kvHeads: number;
  feedForward: number;
  vocab: number;
  contextLength: number;
  ropeFreqBase: number;
}

/** Qwen2.5-0.5B (config.json of Qwen/Qwen2.5-0.5B): 494 M parameters. */
export const QWEN2_5_0_5B_SHAPE: RandomModelShape = { embedding: 896, layers: 24, heads: 14, kvHeads: 2, feedForward: 4864, vocab: 151_936, contextLength: 32_768, ropeFreqBase: 1_000_000 };
/** The same architecture at toy size, for tests (vocab = the seedling tokenizer's, no padding). */
export const TINY_QWEN2_SHAPE: RandomModelShape = { embedding: 64, layers: 2, heads: 4, kvHeads: 2, feedForward: 128, vocab: 2048, contextLength: 2048, ropeFreqBase: 1_000_000 };

export interface WriteRandomModelOptions {
  path: string;
  /** @default QWEN2_5_0_5B_SHAPE */
  shape?: RandomModelShape;
  /** GGUF whose SentencePiece tokenizer is reused. @default models/seedling.gguf */
  tokenizerPath?: string;
  /** @default 20261206 */
  seed?: number;
}

export function parameterCount(shape: RandomModelShape): number {
  const headDim = shape.embedding / shape.heads;
  const kv = headDim * shape.kvHeads;
  const perLayer = 2 * shape.embedding + shape.embedding * (shape.embedding + 2 * kv) + (shape.embedding + 2 * kv) + shape.embedding * shape.embedding + 3 * shape.embedding * shape.feedForward;
  return shape.vocab * shape.embedding + shape.embedding + shape.layers * perLayer;
}

const STD = 0.02;
const UNIFORM_HALF_WIDTH = STD * Math.sqrt(3);

/** A Q8_0 tensor of `rows × columns` uniform random values, produced block by block. */
function randomQ8_0(random: SeededRandom, columns: number, rows: number): () => Uint8Array {
  return () => {
    const blocksPerRow = columns / 32;
    const out = new Uint8Array(rows * blocksPerRow * Q8_0_BLOCK_BYTES);
    const row = new Float32Array(columns);
    for (let r = 0; r < rows; r++) {
      for (let index = 0; index < columns; index++) row[index] = (random.next() * 2 - 1) * UNIFORM_HALF_WIDTH;
      quantizeQ8_0(row, out, r * blocksPerRow * Q8_0_BLOCK_BYTES);
    }
    return out;
  };
}

async function tokenizerKv(path: string, vocab: number): Promise<GgufKv[]> {
  if (!existsSync(path)) throw new CouncilError("MODEL_NOT_FOUND", `Tokenizer source ${path} is missing: run \`npx council seedling build\` or pass another SentencePiece GGUF.`);
  const source = await readGguf(path);
  if (source.metadata.get("tokenizer.ggml.model") !== "llama") throw new CouncilError("GGUF_INVALID", `${path} has no SentencePiece ("llama") tokenizer.`);
  const tokens = [...(source.metadata.get("tokenizer.ggml.tokens") as readonly string[])];
  const scores = [...(source.metadata.get("tokenizer.ggml.scores") as readonly number[])];
  const types = [...(source.metadata.get("tokenizer.ggml.token_type") as readonly number[])];
  if (vocab < tokens.length) throw new CouncilError("CONFIG_INVALID", `vocab ${vocab} is smaller than the tokenizer's ${tokens.length} pieces.`);
  const lowest = Math.min(...scores);
  for (let id = tokens.length; id < vocab; id++) {
    tokens.push(`▁t${id}`); // a plain piece (type 1, normal) that prompts never contain: decodes to " t<id>"
    scores.push(lowest - 1);
    types.push(1);
  }
  const copied = source.kv.filter((entry) => entry.key.startsWith("tokenizer.") && !["tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"].includes(entry.key));
  return [
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "array", itemType: "string", value: tokens },
    { key: "tokenizer.ggml.scores", type: "array", itemType: "f32", value: scores },
    { key: "tokenizer.ggml.token_type", type: "array", itemType: "i32", value: types },
    ...copied.filter((entry) => entry.key !== "tokenizer.ggml.model"),
  ];
}

/** Writes a random `qwen2` GGUF of `shape`, all 2-D weights Q8_0, norms and biases F32. */
export async function writeRandomQwen2Model(options: WriteRandomModelOptions): Promise<{ path: string; bytes: number; parameters: number; seconds: number }> {
  const { path, shape = QWEN2_5_0_5B_SHAPE, tokenizerPath = SEEDLING_PATH, seed = 20261206 } = options;
  const started = performance.now();
  const { embedding, layers, heads, kvHeads, feedForward, vocab } = shape;
  if (embedding % heads !== 0 || heads % kvHeads !== 0 || embedding % 32 !== 0 || feedForward % 32 !== 0) {
    throw new CouncilError("CONFIG_INVALID", "shape: embedding must split into heads, heads into kv heads, and rows must be whole Q8_0 blocks of 32.");
  }
  const kv = (embedding / heads) * kvHeads;
  const random = new SeededRandom(seed);
  const q8 = (name: string, columns: number, rows: number): GgufTensorInput => ({ name, dims: [columns, rows], type: GGML_TYPE_Q8_0, bytes: randomQ8_0(random, columns, rows) });
  const f32 = (name: string, length: number, value: number): GgufTensorInput => ({ name, dims: [length], data: () => new Float32Array(length).fill(value) });
  const tensors: GgufTensorInput[] = [q8("token_embd.weight", embedding, vocab), f32("output_norm.weight", embedding, 1)];
  for (let layer = 0; layer < layers; layer++) {
    const blk = `blk.${layer}`;
    tensors.push(
      f32(`${blk}.attn_norm.weight`, embedding, 1),
      q8(`${blk}.attn_q.weight`, embedding, embedding),
      f32(`${blk}.attn_q.bias`, embedding, 0),
      q8(`${blk}.attn_k.weight`, embedding, kv),
      f32(`${blk}.attn_k.bias`, kv, 0),
      q8(`${blk}.attn_v.weight`, embedding, kv),
      f32(`${blk}.attn_v.bias`, kv, 0),
      q8(`${blk}.attn_output.weight`, embedding, embedding),
      f32(`${blk}.ffn_norm.weight`, embedding, 1),
      q8(`${blk}.ffn_gate.weight`, embedding, feedForward),
      q8(`${blk}.ffn_up.weight`, embedding, feedForward),
      q8(`${blk}.ffn_down.weight`, feedForward, embedding),
    );
  }
  const kvEntries: GgufKv[] = [
    { key: "general.architecture", type: "string", value: "qwen2" },
    { key: "general.name", type: "string", value: `council-random-qwen2-${embedding}x${layers}` },
    { key: "general.file_type", type: "u32", value: 7 }, // LLAMA_FTYPE_MOSTLY_Q8_0
    { key: "general.alignment", type: "u32", value: 32 },
    { key: "council.random_model.shape", type: "string", value: JSON.stringify({ ...shape, seed }) },
    { key: "qwen2.context_length", type: "u32", value: shape.contextLength },
    { key: "qwen2.embedding_length", type: "u32", value: embedding },
    { key: "qwen2.block_count", type: "u32", value: layers },
    { key: "qwen2.feed_forward_length", type: "u32", value: feedForward },
    { key: "qwen2.attention.head_count", type: "u32", value: heads },
    { key: "qwen2.attention.head_count_kv", type: "u32", value: kvHeads },
    { key: "qwen2.rope.freq_base", type: "f32", value: shape.ropeFreqBase },
    { key: "qwen2.attention.layer_norm_rms_epsilon", type: "f32", value: 1e-6 },
    ...(await tokenizerKv(tokenizerPath, vocab)),
  ];
  const written = await writeGguf({ path, kv: kvEntries, tensors });
  return { ...written, parameters: parameterCount(shape), seconds: Math.round((performance.now() - started) / 100) / 10 };
}
