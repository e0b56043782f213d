import { z } from "zod";
import { BackendRegistry, CouncilError, defineBackend } from "../core/index.js";
import type { AdapterHost, OpenedChatModel, ServingTarget } from "./types.js";

/** The opened chat backend's adapter host; INTERNAL when a target that hosts adapters is reached through a backend without one. */
function hostOf(target: string, chat: OpenedChatModel): AdapterHost {
  if (chat.adapterHost === null) throw new CouncilError("INTERNAL", `The serving target "${target}" hosts adapters, but its chat backend opened without an adapter host.`, { details: { target } });
  return chat.adapterHost;
}

/** Adapters loaded from files into slots of the model inside this process (node-llama-cpp). */
export const inProcessTarget: ServingTarget = defineBackend({
  name: "in-process",
  description: "the model in this process; adapter versions load from loras/ into slots",
  configSchema: z.object({}),
  capabilities: { adapterHost: true, adapterLoading: "runtime-file", sharedAcrossReplicas: false },
  open: (_settings, { chat }) => hostOf("in-process", chat),
});

/** A llama.cpp `llama-server` that preloaded the adapter files; Council maps its slots onto them per request. */
export const llamaServerTarget: ServingTarget = defineBackend({
  name: "llama-server",
  description: "a llama.cpp llama-server holding preloaded adapters (--lora …), shareable by replicas",
  configSchema: z.object({ model: z.object({ llamaServerUrl: z.string() }) }),
  capabilities: { adapterHost: true, adapterLoading: "preloaded", sharedAcrossReplicas: true },
  open: (_settings, { chat }) => hostOf("llama-server", chat),
});

/** An OpenAI-compatible server (vLLM, a hosted API): it serves whatever LoRA modules it was started with; Council loads none. */
export const openaiCompatibleTarget: ServingTarget = defineBackend({
  name: "openai-compatible",
  description: "an OpenAI-compatible server (vLLM …): LoRA modules picked by name, none loaded by Council",
  configSchema: z.object({ model: z.object({ openaiBaseUrl: z.string() }) }),
  capabilities: { adapterHost: false, adapterLoading: "none", sharedAcrossReplicas: true },
  open: () => null,
});

/** Where adapter versions are served. A chat backend names its target in `capabilities.servingTarget`. */
export const servingTargets = new BackendRegistry<ServingTarget>({ kind: "serving target", configKey: "model.backend" })
  .register(inProcessTarget)
  .register(llamaServerTarget)
  .register(openaiCompatibleTarget);
