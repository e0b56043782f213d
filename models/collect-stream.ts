import { AIMessage, type AIMessageChunk } from "@langchain/core/messages";
import type { ChatGenerationChunk, ChatResult } from "@langchain/core/outputs";

/** `_generate` for backends that stream: concatenates the chunks, keeping the last chunk's metadata and usage. */
export async function collectStream(chunks: AsyncIterable<ChatGenerationChunk>): Promise<ChatResult> {
  let text = "";
  let last: AIMessageChunk | undefined;
  for await (const chunk of chunks) {
    text += chunk.text;
    last = chunk.message as AIMessageChunk;
  }
  const message = new AIMessage({
    content: text,
    response_metadata: last?.response_metadata ?? {},
    ...(last?.usage_metadata ? { usage_metadata: last.usage_metadata } : {}),
  });
  return { generations: [{ text, message }] };
}
