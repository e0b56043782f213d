/**
 * ggml's Q8_0 block format in JS: 32 values per block, stored as an f16 scale `d = max|x| / 127` followed by 32
 * int8 `q = round(x / d)`, 34 bytes in all (ggml-quants.c `quantize_row_q8_0_ref`); x ≈ d · q. Lets the project
 * write quantized GGUFs directly, without an F32 intermediate of the whole model.
 */
import { CouncilError } from "../../core/index.js";

export const GGML_TYPE_Q8_0 = 8;
export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 34;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary32 → binary16 bits, round to nearest even (what ggml's `GGML_FP32_TO_FP16` does on x86). */
export function f32ToF16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // inf / nan
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    if (e < -10) return sign; // underflow → ±0
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let rounded = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    if (rest > half || (rest === half && (rounded & 1) === 1)) rounded += 1;
    return sign | rounded;
  }
  let bits = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (bits & 1) === 1)) bits += 1; // may carry into the exponent: still correct
  return sign | bits;
}

/** binary16 bits → number. */
export function f16ToF32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa === 0 ? sign * Infinity : Number.NaN;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * Quantizes `values` (a whole number of 32-value blocks) into `out` at byte `offset` (a fresh buffer by
 * default). Returns the buffer.
 */
export function quantizeQ8_0(values: Float32Array, out?: Uint8Array, offset = 0): Uint8Array {
  if (values.length % Q8_0_BLOCK !== 0) {
    throw new CouncilError("GGUF_INVALID", `Q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${values.length}`);
  }
  const blocks = values.length / Q8_0_BLOCK;
  const target = out ?? new Uint8Array(blocks * Q8_0_BLOCK_BYTES);
  if (offset + blocks * Q8_0_BLOCK_BYTES > target.length) throw new CouncilError("GGUF_INVALID", "Q8_0 output buffer is too small");
  const view = new DataView(target.buffer, target.byteOffset, target.byteLength);
  for (let block = 0; block < blocks; block++) {
    const start = block * Q8_0_BLOCK;
    let amax = 0;
    for (let index = 0; index < Q8_0_BLOCK; index++) {
      const value = values[start + index]!;
      if (!Number.isFinite(value)) throw new CouncilError("GGUF_INVALID", `non-finite value at index ${start + index}`);
      amax = Math.max(amax, Math.abs(value));
    }
    const scale = amax / 127;
    const inverse = scale === 0 ? 0 : 1 / scale;
    const at = offset + block * Q8_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(scale), true);
    for (let index = 0; index < Q8_0_BLOCK; index++) {
      // ggml rounds half away from zero (roundf); the f32 scale, not its f16 copy, is used for q (as ggml does).
      const q = values[start + index]! * inverse;
      view.setInt8(at + 2 + index, Math.max(-127, Math.min(127, Math.sign(q) * Math.round(Math.abs(q)))));
    }
  }
  return target;
}

/** Decodes Q8_0 blocks back to floats (`d · q`, d read as f16). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  if (bytes.length % Q8_0_BLOCK_BYTES !== 0) {
    throw new CouncilError("GGUF_INVALID", `Q8_0 data must be a multiple of ${Q8_0_BLOCK_BYTES} bytes, got ${bytes.length}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = bytes.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  for (let block = 0; block < blocks; block++) {
    const at = block * Q8_0_BLOCK_BYTES;
    const scale = f16ToF32(view.getUint16(at, true));
    for (let index = 0; index < Q8_0_BLOCK; index++) out[block * Q8_0_BLOCK + index] = scale * view.getInt8(at + 2 + index);
  }
  return out;
}
