import { basename } from "node:path";
import { z } from "zod";
import { defineBackend, SEEDLING_PATH } from "../core/index.js";
import { HF_MODELS_DIR } from "./hf-models-dir.js";
import { LlamaChatModel } from "./llama-chat-model.js";
import type { ChatBackend } from "./types.js";

const settingsSchema = z.object({
  model: z.object({
    path: z.string().optional(),
    threads: z.number().int().optional(),
    contextSize: z.number().int(),
    parallel: z.number().int(),
    maxTokens: z.number().int(),
    temperature: z.number(),
    loopBan: z.boolean(),
  }),
});

/** `llama`: node-llama-cpp in this process, on the seedling unless COUNCIL_MODEL names another GGUF; adapters load from files into slots. */
export const llamaChatBackend: ChatBackend = defineBackend({
  name: "llama",
  description: "node-llama-cpp in this process (COUNCIL_MODEL, default the seedling)",
  configSchema: settingsSchema,
  capabilities: { adapterHost: true, dispose: true, servingTarget: "in-process" },
  async open({ model }, { logger, validateAdapter }) {
    const path = model.path ?? SEEDLING_PATH;
    const chat = await LlamaChatModel.create({
      modelPath: path,
      modelsDir: HF_MODELS_DIR,
      ...(model.threads === undefined ? {} : { threads: model.threads }),
      contextSize: model.contextSize,
      parallel: model.parallel,
      maxTokens: model.maxTokens,
      temperature: model.temperature,
      ...(model.loopBan ? {} : { loopBan: false }),
      ...(validateAdapter === undefined ? {} : { validateAdapter }),
      logger: logger.child({ component: "llama" }),
    });
    return { model: chat, adapterHost: chat, modelName: basename(path), dispose: () => chat.dispose() };
  },
});
