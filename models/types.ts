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
  /**
   * Holds what `slot` serves now for a whole turn (several calls): calls with `adapter: lease.slot` use that
   * adapter even if the slot is replaced or removed meanwhile (a rollback unloading the canary), until
   * `release()`. Throws ADAPTER_NOT_FOUND when the slot is empty. Optional: hosts without it are called by slot name.
   */
  leaseAdapter?(slot: string): AdapterLease;
}

/** A hold on one slot's adapter (see {@link AdapterHost.leaseAdapter}). */
export interface AdapterLease {
  /** The `adapter` call option that reaches the leased adapter. */
  readonly slot: string;
  readonly version: string;
  /** Ends the hold (idempotent); a replaced or removed adapter is then freed once its requests finish. */
  release(): void;
}
