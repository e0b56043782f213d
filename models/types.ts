import type { BaseChatModelCallOptions } from "@langchain/core/language_models/chat_models";

/**
 * Call options every Council chat backend accepts. `adapter` picks a LoRA slot per request
 * (llama: a loaded slot name; openai/vLLM: the served LoRA module name). `null` = base model.
 */
export interface CouncilCallOptions extends BaseChatModelCallOptions {
  adapter?: string | null;
  maxTokens?: number;
  temperature?: number;
}

export interface AdapterSlotInfo {
  slot: string;
  /** The registry version (content hash prefix) loaded in the slot, reported in `final` frames. */
  version: string;
  path: string;
  scale: number;
}

/**
 * Backends that serve LoRA adapters in named slots. Replacing a slot's adapter never fails
 * requests already streaming on the old one; new requests see the new adapter.
 */
export interface AdapterHost {
  setAdapter(options: { slot: string; path: string; version: string; scale?: number }): Promise<AdapterSlotInfo>;
  removeAdapter(slot: string): Promise<void>;
  adapters(): AdapterSlotInfo[];
}
