import { describe, expect, it } from "vitest";
import { isCouncilError, loadConfig } from "../core/index.js";
import { createChatModel } from "./create-chat-model.js";
import { createEmbeddings } from "./embeddings/create-embeddings.js";
import { HashEmbeddings } from "./embeddings/hash-embeddings.js";
import { OpenAICompatibleEmbeddings } from "./embeddings/openai-embeddings.js";
import { OpenAIChatModel } from "./openai-chat-model.js";

const codeOf = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: unknown) => (isCouncilError(error) ? error.code : String(error)));

describe("createChatModel", () => {
  it("builds the openai backend from config without a network call", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiBaseUrl: "http://127.0.0.1:9/v1", openaiModel: "base" } } });
    const model = await createChatModel({ config });
    expect(model).toBeInstanceOf(OpenAIChatModel);
    expect((model as OpenAIChatModel).modelName).toBe("base");
  });

  it("names the missing setting of the openai backend (CONFIG_INVALID)", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiModel: "base" } } });
    const error = await createChatModel({ config }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain("COUNCIL_OPENAI_BASE_URL");
  });

  it("refuses an unknown backend with BACKEND_UNKNOWN", async () => {
    const config = { model: { ...loadConfig({ env: {} }).model, backend: "tensorflow" as never } };
    expect(await codeOf(createChatModel({ config }))).toBe("BACKEND_UNKNOWN");
  });

  it("reports a missing llama model file with MODEL_NOT_FOUND", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "llama", path: "/nonexistent/model.gguf" } } });
    expect(await codeOf(createChatModel({ config }))).toBe("MODEL_NOT_FOUND");
  });
});

describe("createEmbeddings", () => {
  it("defaults to hash embeddings of the configured length", async () => {
    const embeddings = await createEmbeddings({ config: loadConfig({ env: {}, overrides: { embeddings: { dimensions: 64 } } }) });
    expect(embeddings).toBeInstanceOf(HashEmbeddings);
    expect(await embeddings.embedQuery("reset my password")).toHaveLength(64);
  });

  it("builds openai embeddings and names missing settings", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { openaiBaseUrl: "http://127.0.0.1:9/v1" }, embeddings: { backend: "openai", model: "e5" } } });
    expect(await createEmbeddings({ config })).toBeInstanceOf(OpenAICompatibleEmbeddings);
    const noModel = loadConfig({ env: {}, overrides: { model: { openaiBaseUrl: "http://127.0.0.1:9/v1" }, embeddings: { backend: "openai" } } });
    expect(await codeOf(createEmbeddings({ config: noModel }))).toBe("CONFIG_INVALID");
  });

  it("refuses an unknown backend with BACKEND_UNKNOWN, and a missing llama model with MODEL_NOT_FOUND", async () => {
    const base = loadConfig({ env: {} });
    expect(await codeOf(createEmbeddings({ config: { model: base.model, embeddings: { ...base.embeddings, backend: "word2vec" as never } } }))).toBe("BACKEND_UNKNOWN");
    const llama = loadConfig({ env: {}, overrides: { embeddings: { backend: "llama", model: "/nonexistent/embed.gguf" } } });
    expect(await codeOf(createEmbeddings({ config: llama }))).toBe("MODEL_NOT_FOUND");
  });
});

describe("createChatModel llama-server", () => {
  it("names the missing COUNCIL_LLAMA_SERVER_URL (CONFIG_INVALID)", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "llama-server" } } });
    const error = await createChatModel({ config }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain("COUNCIL_LLAMA_SERVER_URL");
  });

  it("reports an unreachable server with BACKEND_UNAVAILABLE", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "llama-server", llamaServerUrl: "http://127.0.0.1:9" } } });
    expect(await codeOf(createChatModel({ config }))).toBe("BACKEND_UNAVAILABLE");
  });
});
