export { llamaParameterCount, llamaTensorDims, writeLlamaModel, type LlamaShape, type WriteLlamaModelOptions } from "./llama-model.js";
