import { basename } from "node:path";
import { z } from "zod";
import { defineBackend, SEEDLING_PATH } from "../core/index.js";
import { LlamaServerChatModel } from "./llama-server-chat-model.js";
import type { ChatBackend } from "./types.js";

const settingsSchema = z.object({
  model: z.object({
    llamaServerUrl: z.string(),
    path: z.string().optional(),
    maxTokens: z.number().int(),
    temperature: z.number(),
  }),
});

/** `llama-server`: a running llama.cpp server at COUNCIL_LLAMA_SERVER_URL; adapters are preloaded by the server and mapped to slots. */
export const llamaServerChatBackend: ChatBackend = defineBackend({
  name: "llama-server",
  description: "a running llama.cpp llama-server (COUNCIL_LLAMA_SERVER_URL) with adapters preloaded",
  configSchema: settingsSchema,
  capabilities: { adapterHost: true, dispose: false, servingTarget: "llama-server" },
  async open({ model }) {
    const chat = await LlamaServerChatModel.create({ baseUrl: model.llamaServerUrl, maxTokens: model.maxTokens, temperature: model.temperature });
    return { model: chat, adapterHost: chat, modelName: basename(model.path ?? SEEDLING_PATH), dispose: async () => undefined };
  },
});
