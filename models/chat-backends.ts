import { BackendRegistry } from "../core/index.js";
import { llamaChatBackend } from "./llama-backend.js";
import { llamaServerChatBackend } from "./llama-server-backend.js";
import { openaiChatBackend } from "./openai-backend.js";
import type { ChatBackend } from "./types.js";

/** Chat backends by name; `model.backend` (COUNCIL_BACKEND) picks one. A new backend is one file plus one `.register` here. */
export const chatBackends = new BackendRegistry<ChatBackend>({ kind: "chat backend", configKey: "model.backend" })
  .register(llamaChatBackend)
  .register(openaiChatBackend)
  .register(llamaServerChatBackend);
