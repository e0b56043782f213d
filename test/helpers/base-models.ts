import { f32ToF16, quantizeQ8_0, readGguf, readTensorF32, SeededRandom, writeGguf, type GgufKv, type GgufTensorInput } from "../../models/gguf/index.js";

/** Weight types a converted base can have; 1-D tensors (norms, biases) stay F32, as llama-quantize leaves them. */
export type BaseWeightType = "F32" | "F16" | "BF16" | "Q8_0" | "Q4_0";
/** Architectures the converter makes from a llama GGUF (same tokenizer; the tensors each architecture adds). */
export type BaseArchitecture = "llama" | "qwen2" | "qwen3";

const TYPE_IDS: Record<BaseWeightType, { id: number; fileType: number }> = {
  F32: { id: 0, fileType: 0 },
  F16: { id: 1, fileType: 1 },
  Q4_0: { id: 2, fileType: 2 },
  Q8_0: { id: 8, fileType: 7 },
  BF16: { id: 30, fileType: 32 },
};

const scratch = new DataView(new ArrayBuffer(4));

function toBf16(value: number): number {
  scratch.setFloat32(0, value);
  const x = scratch.getUint32(0);
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** ggml's reference quantizers (Q8_0: models/gguf; Q4_0: quantize_row_q4_0_ref), F16 and BF16. */
export function encodeTensor(data: Float32Array, type: BaseWeightType): Uint8Array {
  if (type === "F32") return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  if (type === "F16" || type === "BF16") {
    const out = new Uint8Array(data.length * 2);
    const view = new DataView(out.buffer);
    for (let i = 0; i < data.length; i++) view.setUint16(i * 2, type === "F16" ? f32ToF16(data[i]!) : toBf16(data[i]!), true);
    return out;
  }
  if (type === "Q8_0") return quantizeQ8_0(data);
  if (data.length % 32 !== 0) throw new RangeError(`${type} needs rows of a multiple of 32 values`);
  const blocks = data.length / 32;
  const blockBytes = 18;
  const out = new Uint8Array(blocks * blockBytes);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = data.subarray(b * 32, b * 32 + 32);
    const at = b * blockBytes;
    let amax = 0;
    let max = 0;
    for (const v of x) {
      if (Math.abs(v) > amax) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = max / -8;
    const id = d !== 0 ? 1 / d : 0;
    view.setUint16(at, f32ToF16(d), true);
    for (let j = 0; j < 16; j++) {
      const q0 = Math.min(15, Math.trunc(x[j]! * id + 8.5));
      const q1 = Math.min(15, Math.trunc(x[16 + j]! * id + 8.5));
      out[at + 2 + j] = q0 | (q1 << 4);
    }
  }
  return out;
}

/**
 * Reorders the rows of a llama GGUF's attn_q/attn_k weight (`heads` heads of `rowLength` inputs each row) for
 * architectures whose rope rotates the two halves of a head (NEOX: qwen2, qwen3) instead of adjacent pairs (llama):
 * the inverse of convert_hf_to_gguf.py's llama `permute`, so the converted model computes what the llama one did.
 */
function halvesRope(data: Float32Array, heads: number, rowLength: number): Float32Array {
  const headDim = data.length / rowLength / heads;
  const out = new Float32Array(data.length);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < headDim / 2; i++) {
      for (let a = 0; a < 2; a++) {
        const from = (h * headDim + 2 * i + a) * rowLength;
        out.set(data.subarray(from, from + rowLength), (h * headDim + a * (headDim / 2) + i) * rowLength);
      }
    }
  }
  return out;
}

/**
 * Rewrites a small F32 llama GGUF (test/helpers/tiny-model.ts) as another architecture and weight type:
 * qwen2 adds attn_q/k/v biases, qwen3 adds per-head q/k RMS norms, and for both the q/k rows are reordered for their
 * rope (see halvesRope: a trained llama model stays as good as it was); every 2-D tensor is stored as `type`
 * (quantized with ggml's reference quantizers), 1-D tensors stay F32. The tokenizer is kept (SPM).
 * `tieOutput` drops output.weight (the head is then token_embd, as in Qwen2.5-0.5B). `biasStd` is the spread of the
 * qwen2 biases (0: zero biases, so a trained llama model converted to qwen2 computes what it computed before).
 */
export async function convertTinyModel({ src, out, architecture = "llama", type, seed = 7, tieOutput = false, biasStd = 0.02 }: { src: string; out: string; architecture?: BaseArchitecture; type: BaseWeightType; seed?: number; tieOutput?: boolean; biasStd?: number }): Promise<string> {
  const file = readGguf(src);
  const random = new SeededRandom(seed);
  const heads = Number(file.metadata.get("llama.attention.head_count"));
  const kvHeads = Number(file.metadata.get("llama.attention.head_count_kv") ?? heads);
  const kv: GgufKv[] = file.kv.map((entry) => {
    if (entry.key === "general.architecture") return { ...entry, value: architecture } as GgufKv;
    if (entry.key === "general.file_type") return { ...entry, value: TYPE_IDS[type].fileType } as GgufKv;
    if (entry.key.startsWith("llama.")) return { ...entry, key: `${architecture}.${entry.key.slice("llama.".length)}` } as GgufKv;
    return entry;
  });
  const tensors: GgufTensorInput[] = [];
  for (const tensor of file.tensors) {
    if (tieOutput && tensor.name === "output.weight") continue;
    const read = readTensorF32(file, tensor.name);
    const rope = architecture === "llama" ? undefined : /^blk\.\d+\.attn_([qk])\.weight$/.exec(tensor.name)?.[1];
    const data = rope === undefined ? read : halvesRope(read, rope === "q" ? heads : kvHeads, tensor.dims[0]!);
    tensors.push(tensor.dims.length === 1 ? { name: tensor.name, dims: tensor.dims, data } : { name: tensor.name, dims: tensor.dims, type: TYPE_IDS[type].id, bytes: encodeTensor(data, type) });
    const match = /^blk\.(\d+)\.attn_([qkv])\.weight$/.exec(tensor.name);
    if (match === null) continue;
    const outDim = tensor.dims[1]!;
    if (architecture === "qwen2") tensors.push({ name: `blk.${match[1]}.attn_${match[2]}.bias`, dims: [outDim], data: biasStd === 0 ? new Float32Array(outDim) : random.normalArray(outDim, biasStd) });
    if (architecture === "qwen3" && match[2] !== "v") tensors.push({ name: `blk.${match[1]}.attn_${match[2]}_norm.weight`, dims: [tensor.dims[0]! / heads], data: new Float32Array(tensor.dims[0]! / heads).fill(1) });
  }
  await writeGguf({ path: out, kv, tensors });
  return out;
}
