import { z } from "zod";
import { describe, expect, it } from "vitest";
import { BackendRegistry, defineBackend, isCouncilError, loadConfig } from "../core/index.js";
import { FakeChatModel } from "../test/fakes/index.js";
import { chatBackends } from "./chat-backends.js";
import { createChatModel, resolveServing } from "./create-chat-model.js";
import { createEmbeddings } from "./embeddings/create-embeddings.js";
import { embeddingsBackends } from "./embeddings/embedding-backends.js";
import { HashEmbeddings } from "./embeddings/hash-embeddings.js";
import { OpenAICompatibleEmbeddings } from "./embeddings/openai-embeddings.js";
import { OpenAIChatModel } from "./openai-chat-model.js";
import { servingTargets } from "./serving-targets.js";
import type { AdapterHost, ChatBackend } from "./types.js";

const codeOf = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: unknown) => (isCouncilError(error) ? error.code : String(error)));
const messageOf = (promise: Promise<unknown>) => promise.then(() => "resolved", (error: unknown) => (error as Error).message);

/** A backend registered from outside models/: a fake model whose "adapter host" records what it was asked to load. */
function fakeBackend(loaded: string[]): ChatBackend {
  const host: AdapterHost = {
    setAdapter: async ({ slot, path, version }) => {
      loaded.push(`${slot}=${path}`);
      return { slot, path, version, scale: 1 };
    },
    removeAdapter: async () => undefined,
    adapters: () => [],
  };
  return defineBackend({
    name: "fake",
    description: "scripted turns",
    configSchema: z.object({ model: z.object({ openaiModel: z.string() }) }),
    capabilities: { adapterHost: true, dispose: false, servingTarget: "in-process" },
    open: async ({ model }) => ({ model: new FakeChatModel({ turns: [], modelName: model.openaiModel }), adapterHost: host, modelName: model.openaiModel, dispose: async () => undefined }),
  });
}

describe("createChatModel (chat backend registry)", () => {
  it("builds the openai backend from config without a network call: no adapter host, its model name", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiBaseUrl: "http://127.0.0.1:9/v1", openaiModel: "base" } } });
    const opened = await createChatModel({ config });
    expect(opened.model).toBeInstanceOf(OpenAIChatModel);
    expect(opened.adapterHost).toBeNull();
    expect(opened.modelName).toBe("base");
    await opened.dispose();
  });

  it("names the missing setting of the openai backend (CONFIG_INVALID)", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiModel: "base" } } });
    const error = await createChatModel({ config }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
    expect((error as Error).message).toContain("COUNCIL_OPENAI_BASE_URL");
  });

  it("refuses an unknown backend with BACKEND_UNKNOWN listing the registered ones", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "tensorflow" } } });
    expect(await codeOf(createChatModel({ config }))).toBe("BACKEND_UNKNOWN");
    expect(await messageOf(createChatModel({ config }))).toContain("one of: llama, openai, llama-server");
  });

  it("reports a missing llama model file with MODEL_NOT_FOUND", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "llama", path: "/nonexistent/model.gguf" } } });
    expect(await codeOf(createChatModel({ config }))).toBe("MODEL_NOT_FOUND");
  });

  it("picks a newly registered backend by name, and its serving target opens to its adapter host", async () => {
    const loaded: string[] = [];
    const registry = new BackendRegistry<ChatBackend>({ kind: "chat backend", configKey: "model.backend" }).register(fakeBackend(loaded));
    const config = loadConfig({ env: {}, overrides: { model: { backend: "fake", openaiModel: "tiny" } } });
    const chat = await createChatModel({ config, registry });
    expect(chat.model).toBeInstanceOf(FakeChatModel);
    expect(chat.modelName).toBe("tiny");
    const { target, host } = resolveServing({ config, chat, backends: registry });
    expect(target.name).toBe("in-process");
    await host?.setAdapter({ slot: "stable", path: "/a.gguf", version: "v1" });
    expect(loaded).toEqual(["stable=/a.gguf"]);
  });
});

describe("chat backends and serving targets", () => {
  it("registers llama, openai and llama-server with typed capabilities", () => {
    expect(chatBackends.names()).toEqual(["llama", "openai", "llama-server"]);
    expect(chatBackends.get("llama").capabilities).toEqual({ adapterHost: true, dispose: true, servingTarget: "in-process" });
    expect(chatBackends.get("openai").capabilities).toEqual({ adapterHost: false, dispose: false, servingTarget: "openai-compatible" });
    expect(chatBackends.get("llama-server").capabilities).toEqual({ adapterHost: true, dispose: false, servingTarget: "llama-server" });
    expect(servingTargets.names()).toEqual(["in-process", "llama-server", "openai-compatible"]);
  });

  it("every chat backend names a registered serving target that agrees on adapterHost", () => {
    for (const backend of chatBackends.list()) {
      expect(servingTargets.get(backend.capabilities.servingTarget).capabilities.adapterHost, backend.name).toBe(backend.capabilities.adapterHost);
    }
    expect(servingTargets.get("llama-server").capabilities).toEqual({ adapterHost: true, adapterLoading: "preloaded", sharedAcrossReplicas: true });
  });

  it("the openai-compatible target takes no adapters from Council (host null)", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiBaseUrl: "http://127.0.0.1:9/v1", openaiModel: "base" } } });
    const chat = await createChatModel({ config });
    expect(resolveServing({ config, chat })).toMatchObject({ target: { name: "openai-compatible" }, host: null });
  });

  it("a target that hosts adapters refuses a chat backend that opened without a host (INTERNAL)", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { backend: "openai", openaiBaseUrl: "http://127.0.0.1:9/v1", openaiModel: "base" } } });
    const chat = await createChatModel({ config });
    let error: unknown;
    try {
      servingTargets.get("in-process").create(config, { chat });
    } catch (caught) {
      error = caught;
    }
    expect(isCouncilError(error, "INTERNAL")).toBe(true);
  });
});

describe("createEmbeddings (embeddings registry)", () => {
  it("defaults to hash embeddings of the configured length", async () => {
    const opened = await createEmbeddings({ config: loadConfig({ env: {}, overrides: { embeddings: { dimensions: 64 } } }) });
    expect(opened.embeddings).toBeInstanceOf(HashEmbeddings);
    expect(await opened.embeddings.embedQuery("reset my password")).toHaveLength(64);
    await opened.dispose();
  });

  it("builds openai embeddings and names missing settings", async () => {
    const config = loadConfig({ env: {}, overrides: { model: { openaiBaseUrl: "http://127.0.0.1:9/v1" }, embeddings: { backend: "openai", model: "e5" } } });
    expect((await createEmbeddings({ config })).embeddings).toBeInstanceOf(OpenAICompatibleEmbeddings);
    const noModel = loadConfig({ env: {}, overrides: { model: { openaiBaseUrl: "http://127.0.0.1:9/v1" }, embeddings: { backend: "openai" } } });
    expect(await messageOf(createEmbeddings({ config: noModel }))).toContain("COUNCIL_EMBEDDING_MODEL");
    expect(await codeOf(createEmbeddings({ config: noModel }))).toBe("CONFIG_INVALID");
  });

  it("refuses an unknown backend with BACKEND_UNKNOWN listing the registered ones, and a missing llama model with MODEL_NOT_FOUND", async () => {
    const unknown = loadConfig({ env: {}, overrides: { embeddings: { backend: "word2vec" } } });
    expect(await codeOf(createEmbeddings({ config: unknown }))).toBe("BACKEND_UNKNOWN");
    expect(await messageOf(createEmbeddings({ config: unknown }))).toContain("COUNCIL_EMBEDDINGS (config key \"embeddings.backend\") to one of: hash, llama, openai");
    const llama = loadConfig({ env: {}, overrides: { embeddings: { backend: "llama", model: "/nonexistent/embed.gguf" } } });
    expect(await codeOf(createEmbeddings({ config: llama }))).toBe("MODEL_NOT_FOUND");
  });

  it("declares which backends hold something to dispose and which work offline", () => {
    expect(embeddingsBackends.listing().entries.map(({ name, capabilities }) => [name, capabilities])).toEqual([
      ["hash", { dispose: false, offline: true }],
      ["llama", { dispose: true, offline: true }],
      ["openai", { dispose: false, offline: false }],
    ]);
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
