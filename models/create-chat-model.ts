import { silentLogger, type BackendRegistry, type CouncilConfig, type Logger } from "../core/index.js";
import { chatBackends } from "./chat-backends.js";
import type { AdapterValidator } from "./llama-chat-model.js";
import { servingTargets } from "./serving-targets.js";
import type { AdapterHost, ChatBackend, OpenedChatModel, ServingTarget } from "./types.js";

export { HF_MODELS_DIR } from "./hf-models-dir.js";

export interface CreateChatModelOptions {
  config: Pick<CouncilConfig, "model">;
  logger?: Logger;
  /** Adapter check for backends that load adapter files. @default validateLoraAdapter */
  validateAdapter?: AdapterValidator;
  /** @default the built-in registry ({@link chatBackends}) */
  registry?: Pick<BackendRegistry<ChatBackend>, "get">;
}

/**
 * Opens the chat backend `config.model.backend` names in the registry (`llama` by default). Unknown name:
 * BACKEND_UNKNOWN listing the registered ones; a missing setting: CONFIG_INVALID naming its variable.
 */
export async function createChatModel({ config, logger = silentLogger, validateAdapter, registry = chatBackends }: CreateChatModelOptions): Promise<OpenedChatModel> {
  return registry.get(config.model.backend).create(config, { logger, ...(validateAdapter === undefined ? {} : { validateAdapter }) });
}

export interface ResolveServingOptions {
  config: Pick<CouncilConfig, "model">;
  chat: OpenedChatModel;
  /** @default the built-in registries */
  backends?: Pick<BackendRegistry<ChatBackend>, "get">;
  targets?: Pick<BackendRegistry<ServingTarget>, "get">;
}

/**
 * The serving target of the configured chat backend (its `capabilities.servingTarget`) and the adapter host it
 * opens to: null when Council cannot load adapters there (then chat runs on the base model and the nightly loop is off).
 */
export function resolveServing({ config, chat, backends = chatBackends, targets = servingTargets }: ResolveServingOptions): { target: ServingTarget; host: AdapterHost | null } {
  const target = targets.get(backends.get(config.model.backend).capabilities.servingTarget);
  return { target, host: target.create(config, { chat }) };
}
