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
export { sha256File } from "./file-hash.js";
