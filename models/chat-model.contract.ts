import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import { AIMessage, HumanMessage, SystemMessage, type AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import type { CouncilCallOptions } from "./types.js";

export interface ChatModelContractSubject {
  model: BaseChatModel<CouncilCallOptions, AIMessageChunk>;
  /** An adapter the backend serves (a loaded slot, a served LoRA module), if it has any. */
  adapter?: string;
  dispose(): Promise<void>;
}

const PROMPT: BaseMessage[] = [new SystemMessage("You are an IT helpdesk assistant."), new HumanMessage("How do I list the files in a directory?")];

async function collect(stream: AsyncIterable<AIMessageChunk>): Promise<{ text: string; chunks: string[]; last: AIMessageChunk | undefined }> {
  const chunks: string[] = [];
  let last: AIMessageChunk | undefined;
  for await (const chunk of stream) {
    if (typeof chunk.content === "string" && chunk.content !== "") chunks.push(chunk.content);
    last = chunk;
  }
  return { text: chunks.join(""), chunks, last };
}

/**
 * The behaviour every Council chat backend shares, run by each backend's test against the real thing.
 * Backends must be deterministic at temperature 0 (the default).
 */
export function chatModelContract(name: string, setup: () => Promise<ChatModelContractSubject>): void {
  describe(`chat backend contract: ${name}`, () => {
    let subject: ChatModelContractSubject;
    beforeAll(async () => {
      subject = await setup();
    });
    afterAll(async () => {
      await subject?.dispose();
    });

    it("invoke answers with an AIMessage holding text and token usage", async () => {
      const reply = await subject.model.invoke(PROMPT, { maxTokens: 8 });
      expect(reply).toBeInstanceOf(AIMessage);
      expect(typeof reply.content).toBe("string");
      expect((reply.content as string).length).toBeGreaterThan(0);
      expect(reply.usage_metadata?.output_tokens).toBeGreaterThanOrEqual(1);
      expect(reply.usage_metadata?.output_tokens).toBeLessThanOrEqual(8);
    });

    it("stream yields the answer in several chunks, the same text invoke gives", async () => {
      const invoked = await subject.model.invoke(PROMPT, { maxTokens: 8 });
      const streamed = await collect(await subject.model.stream(PROMPT, { maxTokens: 8 }));
      expect(streamed.chunks.length).toBeGreaterThanOrEqual(2);
      expect(streamed.text).toBe(invoked.content);
    });

    it("maxTokens bounds the answer per request", async () => {
      const short = await subject.model.invoke(PROMPT, { maxTokens: 2 });
      const long = await subject.model.invoke(PROMPT, { maxTokens: 8 });
      expect(short.usage_metadata?.output_tokens).toBeLessThanOrEqual(2);
      expect((long.content as string).startsWith(short.content as string)).toBe(true);
    });

    it("reports each token to LangChain callbacks", async () => {
      const tokens: string[] = [];
      const reply = await subject.model.invoke(PROMPT, {
        maxTokens: 6,
        callbacks: [{ handleLLMNewToken: (token: string) => void tokens.push(token) }],
      });
      expect(tokens.length).toBeGreaterThanOrEqual(1);
      expect(tokens.join("")).toBe(reply.content);
    });

    it("serves two requests at once", async () => {
      const other: BaseMessage[] = [new HumanMessage("My password expired. What now?")];
      const [first, second] = await Promise.all([subject.model.invoke(PROMPT, { maxTokens: 6 }), subject.model.invoke(other, { maxTokens: 6 })]);
      const [firstAlone, secondAlone] = [await subject.model.invoke(PROMPT, { maxTokens: 6 }), await subject.model.invoke(other, { maxTokens: 6 })];
      expect(first.content).toBe(firstAlone.content);
      expect(second.content).toBe(secondAlone.content);
    });

    it("accepts a multi-turn conversation", async () => {
      const reply = await subject.model.invoke(
        [new SystemMessage("Be brief."), new HumanMessage("Hi"), new AIMessage("Hello. How can I help?"), new HumanMessage("How do I check disk space?")],
        { maxTokens: 4 },
      );
      expect(typeof reply.content).toBe("string");
    });

    it("an unknown adapter fails with ADAPTER_NOT_FOUND, and the backend keeps serving", async () => {
      const error = await subject.model.invoke(PROMPT, { maxTokens: 4, adapter: "no-such-adapter" }).catch((caught: unknown) => caught);
      expect(isCouncilError(error, "ADAPTER_NOT_FOUND")).toBe(true);
      const reply = await subject.model.invoke(PROMPT, { maxTokens: 4 });
      expect((reply.content as string).length).toBeGreaterThan(0);
    });

    it("serves a request on an adapter", async (context) => {
      if (subject.adapter === undefined) return context.skip();
      const reply = await subject.model.invoke(PROMPT, { maxTokens: 6, adapter: subject.adapter });
      expect((reply.content as string).length).toBeGreaterThan(0);
      return undefined;
    });

    it("an aborted stream stops with an error, and the backend keeps serving", async () => {
      const controller = new AbortController();
      const stream = await subject.model.stream(PROMPT, { maxTokens: 64, signal: controller.signal });
      const error = await (async () => {
        for await (const _chunk of stream) controller.abort();
      })().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(Error);
      const reply = await subject.model.invoke(PROMPT, { maxTokens: 4 });
      expect((reply.content as string).length).toBeGreaterThan(0);
    });
  });
}
