export {
  GGML_TYPES,
  GGML_TYPE_F16,
  GGML_TYPE_F32,
  GGUF_VERSION,
  ggmlTensorByteSize,
  type GgufFile,
  type GgufKv,
  type GgufScalarType,
  type GgufTensorInfo,
  type GgufValue,
} from "./gguf-types.js";
export { readGguf, readTensorBytes, readTensorF32, ggufNumber, ggufString } from "./gguf-reader.js";
export { writeGguf, type GgufTensorInput, type WriteGgufOptions } from "./gguf-writer.js";
export {
  loraPairDims,
  readAdapterBaseInfo,
  readLoraAdapter,
  readLoraPair,
  resolveLoraTargets,
  validateAdapterForBase,
  writeLoraAdapter,
  writeZeroBAdapter,
  type AdapterBaseInfo,
  type AdapterSummary,
  type LoraPairInit,
  type WriteLoraAdapterOptions,
} from "./lora-adapter.js";
export { SeededRandom } from "./seeded-random.js";
export { dequantizeQ8_0, f16ToF32, f32ToF16, GGML_TYPE_Q8_0, quantizeQ8_0, Q8_0_BLOCK, Q8_0_BLOCK_BYTES } from "./q8-0.js";
export { sha256File } from "./file-hash.js";
