import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { BackendRegistry, defineBackend, SEEDLING_PATH, type Backend, type Logger } from "../../core/index.js";
import { HF_MODELS_DIR } from "../hf-models-dir.js";
import { HashEmbeddings } from "./hash-embeddings.js";
import { LlamaEmbeddings } from "./llama-embeddings.js";
import { OpenAICompatibleEmbeddings } from "./openai-embeddings.js";

/** Typed capabilities of an embeddings backend. */
export interface EmbeddingsCapabilities {
  /** Holds a model or context that `dispose()` releases (otherwise `dispose()` does nothing). */
  dispose: boolean;
  /** Needs no network and no weights (works on a fresh checkout). */
  offline: boolean;
}

/** Opened embeddings and how to release them. */
export interface OpenedEmbeddings {
  embeddings: EmbeddingsInterface;
  dispose(): Promise<void>;
}

export type EmbeddingsBackend = Backend<{ logger: Logger }, Promise<OpenedEmbeddings>, EmbeddingsCapabilities>;

const noDispose = async () => undefined;

/** `hash`: feature hashing, `embeddings.dimensions` long; no weights, no network. */
export const hashEmbeddingsBackend: EmbeddingsBackend = defineBackend({
  name: "hash",
  description: "feature hashing (COUNCIL_EMBEDDING_DIM long): no weights, no network",
  configSchema: z.object({ embeddings: z.object({ dimensions: z.number().int() }) }),
  capabilities: { dispose: false, offline: true },
  open: async ({ embeddings }) => ({ embeddings: new HashEmbeddings({ dimensions: embeddings.dimensions }), dispose: noDispose }),
});

/** `llama`: a GGUF's embeddings in process (`embeddings.model`, default the chat model). */
export const llamaEmbeddingsBackend: EmbeddingsBackend = defineBackend({
  name: "llama",
  description: "a GGUF in this process (COUNCIL_EMBEDDING_MODEL, default the chat model)",
  configSchema: z.object({ embeddings: z.object({ model: z.string().optional() }), model: z.object({ path: z.string().optional(), threads: z.number().int().optional() }) }),
  capabilities: { dispose: true, offline: true },
  async open({ embeddings, model }) {
    const opened = await LlamaEmbeddings.create({
      modelPath: embeddings.model ?? model.path ?? SEEDLING_PATH,
      modelsDir: HF_MODELS_DIR,
      ...(model.threads === undefined ? {} : { threads: model.threads }),
    });
    return { embeddings: opened, dispose: () => opened.dispose() };
  },
});

/** `openai`: `/v1/embeddings` of COUNCIL_OPENAI_BASE_URL with model `embeddings.model`. */
export const openaiEmbeddingsBackend: EmbeddingsBackend = defineBackend({
  name: "openai",
  description: "/v1/embeddings of an OpenAI-compatible server (COUNCIL_OPENAI_BASE_URL, COUNCIL_EMBEDDING_MODEL)",
  configSchema: z.object({ model: z.object({ openaiBaseUrl: z.string(), openaiApiKey: z.string().optional() }), embeddings: z.object({ model: z.string() }) }),
  capabilities: { dispose: false, offline: false },
  open: async ({ model, embeddings }) => ({
    embeddings: new OpenAICompatibleEmbeddings({ baseUrl: model.openaiBaseUrl, model: embeddings.model, ...(model.openaiApiKey === undefined ? {} : { apiKey: model.openaiApiKey }) }),
    dispose: noDispose,
  }),
});

/** Embeddings backends by name; `embeddings.backend` (COUNCIL_EMBEDDINGS) picks one. A new one is one file plus one `.register` here. */
export const embeddingsBackends = new BackendRegistry<EmbeddingsBackend>({ kind: "embeddings backend", configKey: "embeddings.backend" })
  .register(hashEmbeddingsBackend)
  .register(llamaEmbeddingsBackend)
  .register(openaiEmbeddingsBackend);
