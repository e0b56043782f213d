import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { replyFor, startOpenAICompatibleServer, type OpenAICompatibleServer } from "../test/helpers/openai-compatible-server.js";
import { chatModelContract } from "./chat-model.contract.js";
import { OpenAIChatModel } from "./openai-chat-model.js";

chatModelContract("openai (real HTTP server on 127.0.0.1)", async () => {
  const server = await startOpenAICompatibleServer({ models: ["base-model", "canary"], tokenDelayMs: 2 });
  const model = await OpenAIChatModel.create({ baseUrl: server.baseUrl, model: "base-model", maxRetries: 0 });
  return { model, adapter: "canary", dispose: () => server.close() };
});

describe("OpenAIChatModel against an OpenAI-compatible server", () => {
  let server: OpenAICompatibleServer;
  let model: OpenAIChatModel;
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({ models: ["base-model", "canary"] });
    model = await OpenAIChatModel.create({ baseUrl: server.baseUrl, model: "base-model", apiKey: "sk-test", maxRetries: 0 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("sends the adapter as the model name (vLLM LoRA modules) and streams over SSE", async () => {
    server.requests.length = 0;
    const chunks: string[] = [];
    for await (const chunk of await model.stream([new HumanMessage("reset my password")], { adapter: "canary" })) chunks.push(chunk.content as string);
    expect(chunks.join("")).toBe(replyFor("canary", "reset my password"));
    expect(server.requests.at(-1)?.body).toMatchObject({ model: "canary", stream: true });
    const base = await model.invoke([new HumanMessage("reset my password")]);
    expect(base.content).toBe(replyFor("base-model", "reset my password"));
    expect(server.requests.at(-1)?.body.model).toBe("base-model");
  });

  it("passes maxTokens and temperature per request", async () => {
    await model.invoke([new HumanMessage("hello there")], { maxTokens: 3, temperature: 0.5 });
    expect(server.requests.at(-1)?.body).toMatchObject({ max_tokens: 3, temperature: 0.5 });
  });

  it("maps server errors to BACKEND_UNAVAILABLE with the status", async () => {
    server.failNext(503);
    const error = await model.invoke([new HumanMessage("hi")]).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNAVAILABLE")).toBe(true);
    expect((error as { details?: { status?: number } }).details?.status).toBe(503);
    expect((await model.invoke([new HumanMessage("hi")])).content).toBe(replyFor("base-model", "hi"));
  });

  it("maps an unreachable server to BACKEND_UNAVAILABLE", async () => {
    const down = await startOpenAICompatibleServer();
    const baseUrl = down.baseUrl;
    await down.close();
    const offline = await OpenAIChatModel.create({ baseUrl, model: "base-model", maxRetries: 0 });
    const error = await offline.invoke([new HumanMessage("hi")]).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNAVAILABLE")).toBe(true);
  });

  it("rejects a bad base URL at creation with CONFIG_INVALID", async () => {
    const error = await OpenAIChatModel.create({ baseUrl: "not a url", model: "m" }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
  });
});
