import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError } from "../../core/index.js";
import { embeddingFor, startOpenAICompatibleServer, type OpenAICompatibleServer } from "../../test/helpers/openai-compatible-server.js";
import { embeddingsContract } from "./embeddings.contract.js";
import { OpenAICompatibleEmbeddings } from "./openai-embeddings.js";

embeddingsContract("openai /v1/embeddings (real HTTP server on 127.0.0.1)", async () => {
  const server = await startOpenAICompatibleServer({ models: ["embedder"], dimensions: 48 });
  return { embeddings: new OpenAICompatibleEmbeddings({ baseUrl: server.baseUrl, model: "embedder", dimensions: 48, maxRetries: 0 }), dispose: () => server.close() };
});

describe("OpenAICompatibleEmbeddings", () => {
  let server: OpenAICompatibleServer;
  beforeAll(async () => {
    server = await startOpenAICompatibleServer({ models: ["embedder"], dimensions: 16 });
  });
  afterAll(async () => {
    await server.close();
  });

  it("returns the server's vectors, batching documents into one request", async () => {
    const embeddings = new OpenAICompatibleEmbeddings({ baseUrl: server.baseUrl, model: "embedder", maxRetries: 0 });
    server.requests.length = 0;
    const vectors = await embeddings.embedDocuments(["one", "two", "three"]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.body).toMatchObject({ model: "embedder", input: ["one", "two", "three"] });
    for (const [index, text] of ["one", "two", "three"].entries()) {
      for (const [i, value] of embeddingFor(text, 16).entries()) expect(vectors[index]![i]).toBeCloseTo(value, 5);
    }
  });

  it("VECTOR_INVALID when the server's vectors have another length than configured", async () => {
    const embeddings = new OpenAICompatibleEmbeddings({ baseUrl: server.baseUrl, model: "embedder", dimensions: 384, maxRetries: 0 });
    const error = await embeddings.embedQuery("hi").catch((caught: unknown) => caught);
    expect(isCouncilError(error, "VECTOR_INVALID")).toBe(true);
  });

  it("BACKEND_UNAVAILABLE on server errors and unknown models", async () => {
    const embeddings = new OpenAICompatibleEmbeddings({ baseUrl: server.baseUrl, model: "embedder", maxRetries: 0 });
    server.failNext(500);
    expect(isCouncilError(await embeddings.embedQuery("hi").catch((caught: unknown) => caught), "BACKEND_UNAVAILABLE")).toBe(true);
    const unknown = new OpenAICompatibleEmbeddings({ baseUrl: server.baseUrl, model: "nope", maxRetries: 0 });
    expect(isCouncilError(await unknown.embedQuery("hi").catch((caught: unknown) => caught), "BACKEND_UNAVAILABLE")).toBe(true);
    expect(await embeddings.embedQuery("hi")).toHaveLength(16);
  });

  it("CONFIG_INVALID for a bad base URL", () => {
    expect(() => new OpenAICompatibleEmbeddings({ baseUrl: "nope", model: "m" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
  });
});
