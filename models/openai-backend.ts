import { z } from "zod";
import { defineBackend } from "../core/index.js";
import { OpenAIChatModel } from "./openai-chat-model.js";
import type { ChatBackend } from "./types.js";

const settingsSchema = z.object({
  model: z.object({
    openaiBaseUrl: z.string(),
    openaiModel: z.string(),
    openaiApiKey: z.string().optional(),
    maxTokens: z.number().int(),
    temperature: z.number(),
  }),
});

/** `openai`: any OpenAI-compatible server (vLLM, llama.cpp, a hosted API); adapters are the server's LoRA modules, picked by name. */
export const openaiChatBackend: ChatBackend = defineBackend({
  name: "openai",
  description: "any OpenAI-compatible server (COUNCIL_OPENAI_BASE_URL, COUNCIL_OPENAI_MODEL)",
  configSchema: settingsSchema,
  capabilities: { adapterHost: false, dispose: false, servingTarget: "openai-compatible" },
  async open({ model }) {
    const chat = await OpenAIChatModel.create({
      baseUrl: model.openaiBaseUrl,
      model: model.openaiModel,
      ...(model.openaiApiKey === undefined ? {} : { apiKey: model.openaiApiKey }),
      maxTokens: model.maxTokens,
      temperature: model.temperature,
    });
    return { model: chat, adapterHost: null, modelName: model.openaiModel, dispose: async () => undefined };
  },
});
