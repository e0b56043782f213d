import { SeededRandom, writeGguf, type GgufKv, type GgufTensorInput } from "../gguf/index.js";
import type { SpmVocab } from "../tokenizer/index.js";

/** Hyper-parameters of a llama-architecture model. */
export interface LlamaShape {
  embedding: number;
  layers: number;
  heads: number;
  /** @default heads */
  kvHeads?: number;
  feedForward: number;
  contextLength: number;
  /** @default 1e-5 */
  rmsEpsilon?: number;
  /** @default 10000 */
  ropeFreqBase?: number;
}

export interface WriteLlamaModelOptions {
  path: string;
  name: string;
  shape: LlamaShape;
  vocab: SpmVocab;
  seed: number;
  /** Std of the token embedding table. @default 0.02 */
  embeddingStd?: number;
  /** Extra metadata (recipe, provenance). */
  extraKv?: readonly GgufKv[];
}

/** Every tensor of a llama model with its ggml dims (ne order: [in, out]). */
export function llamaTensorDims(shape: LlamaShape, vocabSize: number): Array<{ name: string; dims: number[] }> {
  const { embedding: e, feedForward: ff, heads } = shape;
  const kvDim = (e / heads) * (shape.kvHeads ?? heads);
  const dims: Array<{ name: string; dims: number[] }> = [{ name: "token_embd.weight", dims: [e, vocabSize] }];
  for (let layer = 0; layer < shape.layers; layer++) {
    const p = `blk.${layer}.`;
    dims.push(
      { name: `${p}attn_norm.weight`, dims: [e] },
      { name: `${p}attn_q.weight`, dims: [e, e] },
      { name: `${p}attn_k.weight`, dims: [e, kvDim] },
      { name: `${p}attn_v.weight`, dims: [e, kvDim] },
      { name: `${p}attn_output.weight`, dims: [e, e] },
      { name: `${p}ffn_norm.weight`, dims: [e] },
      { name: `${p}ffn_gate.weight`, dims: [e, ff] },
      { name: `${p}ffn_down.weight`, dims: [ff, e] },
      { name: `${p}ffn_up.weight`, dims: [e, ff] },
    );
  }
  dims.push({ name: "output_norm.weight", dims: [e] }, { name: "output.weight", dims: [e, vocabSize] });
  return dims;
}

export function llamaParameterCount(shape: LlamaShape, vocabSize: number): number {
  return llamaTensorDims(shape, vocabSize).reduce((sum, tensor) => sum + tensor.dims.reduce((product, dim) => product * dim, 1), 0);
}

/**
 * Writes a freshly initialised llama-architecture F32 GGUF with an SPM byte-fallback tokenizer.
 * Init: norms = 1; token_embd ~ N(0, embeddingStd²) (llama.cpp's trainer leaves it frozen, so it stays a
 * fixed random code book: small, so RMS-norm sees well-conditioned inputs); every matrix ~ N(0, 1/fan_in)
 * (keeps activations at unit scale through the layers), with the residual projections (attn_output,
 * ffn_down) scaled by 1/sqrt(2·layers) as in GPT-2. Deterministic for a seed.
 */
export async function writeLlamaModel({ path, name, shape, vocab, seed, embeddingStd = 0.02, extraKv = [] }: WriteLlamaModelOptions): Promise<{ path: string; bytes: number; parameters: number }> {
  const { embedding, heads, layers } = shape;
  if (embedding % heads !== 0) throw new RangeError(`embedding ${embedding} is not divisible by heads ${heads}`);
  const vocabSize = vocab.tokens.length;
  const random = new SeededRandom(seed);
  const residualScale = 1 / Math.sqrt(2 * layers);
  const tensors: GgufTensorInput[] = llamaTensorDims(shape, vocabSize).map(({ name: tensorName, dims }) => ({
    name: tensorName,
    dims,
    // Lazy: one tensor in memory at a time; tensors are produced in file order, so the seed stream is fixed.
    data: (): Float32Array => {
      const size = dims.reduce((product, dim) => product * dim, 1);
      if (dims.length === 1) return new Float32Array(size).fill(1);
      if (tensorName === "token_embd.weight") return random.normalArray(size, embeddingStd);
      const fanIn = dims[0] ?? 1;
      const scale = /attn_output|ffn_down/.test(tensorName) ? residualScale : 1;
      return random.normalArray(size, scale / Math.sqrt(fanIn));
    },
  }));
  const kv: GgufKv[] = [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.name", type: "string", value: name },
    { key: "general.file_type", type: "u32", value: 0 },
    { key: "general.alignment", type: "u32", value: 32 },
    { key: "llama.context_length", type: "u32", value: shape.contextLength },
    { key: "llama.embedding_length", type: "u32", value: embedding },
    { key: "llama.block_count", type: "u32", value: layers },
    { key: "llama.feed_forward_length", type: "u32", value: shape.feedForward },
    { key: "llama.attention.head_count", type: "u32", value: heads },
    { key: "llama.attention.head_count_kv", type: "u32", value: shape.kvHeads ?? heads },
    { key: "llama.rope.dimension_count", type: "u32", value: embedding / heads },
    { key: "llama.rope.freq_base", type: "f32", value: shape.ropeFreqBase ?? 10000 },
    { key: "llama.attention.layer_norm_rms_epsilon", type: "f32", value: shape.rmsEpsilon ?? 1e-5 },
    { key: "llama.vocab_size", type: "u32", value: vocabSize },
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "array", itemType: "string", value: vocab.tokens },
    { key: "tokenizer.ggml.scores", type: "array", itemType: "f32", value: vocab.scores },
    { key: "tokenizer.ggml.token_type", type: "array", itemType: "i32", value: vocab.tokenTypes },
    { key: "tokenizer.ggml.unknown_token_id", type: "u32", value: vocab.unkId },
    { key: "tokenizer.ggml.bos_token_id", type: "u32", value: vocab.bosId },
    { key: "tokenizer.ggml.eos_token_id", type: "u32", value: vocab.eosId },
    { key: "tokenizer.ggml.add_bos_token", type: "bool", value: true },
    { key: "tokenizer.ggml.add_eos_token", type: "bool", value: false },
    ...extraKv,
  ];
  const written = await writeGguf({ path, kv, tensors });
  return { ...written, parameters: llamaParameterCount(shape, vocabSize) };
}
