import { LlamaCompletion, type LlamaModel } from "node-llama-cpp";

export interface GreedyCompletionOptions {
  /** A LoRA GGUF applied to the context. */
  lora?: string;
  contextSize?: number;
  maxTokens?: number;
  /** @default 1 (more threads spin on a busy machine) */
  threads?: number;
  onToken?: (text: string) => void;
}

/** Greedy completion of `prompt` in a fresh context (optionally with a LoRA adapter), disposed afterwards. */
export async function greedyCompletion(model: LlamaModel, prompt: string, { lora, contextSize = 256, maxTokens = 24, threads = 1, onToken }: GreedyCompletionOptions = {}): Promise<string> {
  const context = await model.createContext({ contextSize, threads, ...(lora ? { lora: { adapters: [{ filePath: lora }] } } : {}) });
  try {
    const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
    return await completion.generateCompletion(prompt, { maxTokens, temperature: 0, seed: 1, ...(onToken ? { onTextChunk: onToken } : {}) });
  } finally {
    await context.dispose();
  }
}
