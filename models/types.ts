import type { BaseChatModel, BaseChatModelCallOptions } from "@langchain/core/language_models/chat_models";
import type { Backend, Logger } from "../core/index.js";
import type { AdapterBaseInfo } from "./gguf/index.js";

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

/** What every chat backend returns from `invoke`/`stream`: a LangChain chat model taking Council's call options. */
export type CouncilChatModel = BaseChatModel<CouncilCallOptions>;

/** Typed capabilities of a chat backend (callers branch on these, never on the shape of the object). */
export interface ChatBackendCapabilities {
  /** Loads LoRA adapters into named slots ({@link AdapterHost}): adapter serving and the nightly loop need it. */
  adapterHost: boolean;
  /** Holds native memory, contexts or sockets that `dispose()` releases (otherwise `dispose()` does nothing). */
  dispose: boolean;
  /** The registered serving target this backend talks to (models/serving-targets.ts). */
  servingTarget: string;
}

/** An opened chat backend: the model, its adapter host when it has one, and how to release it. */
export interface OpenedChatModel {
  model: CouncilChatModel;
  /** Set exactly when the backend's `capabilities.adapterHost` is true. */
  adapterHost: AdapterHost | null;
  /** Name of the base model recorded with turns. */
  modelName: string;
  dispose(): Promise<void>;
}

/** What a chat backend's `open` receives besides its settings. */
export interface ChatBackendContext {
  logger: Logger;
  /** Adapter check for backends that load adapter files (the in-process llama backend). */
  validateAdapter?: (options: { adapterPath: string; base: AdapterBaseInfo }) => Promise<unknown>;
}

export type ChatBackend = Backend<ChatBackendContext, Promise<OpenedChatModel>, ChatBackendCapabilities>;

/** Typed capabilities of a serving target: where LoRA adapter versions are held and how they get there. */
export interface ServingTargetCapabilities {
  /** Council can load and swap adapter versions in named slots here. */
  adapterHost: boolean;
  /** How adapters reach the target: loaded from a file at run time, preloaded by the server at its start, or not at all. */
  adapterLoading: "runtime-file" | "preloaded" | "none";
  /** One target can serve several Council replicas (a server on the network), rather than living inside one process. */
  sharedAcrossReplicas: boolean;
}

/** A serving target opens to the adapter host that adapter serving drives (null: this target takes no adapters from Council). */
export type ServingTarget = Backend<{ chat: OpenedChatModel }, AdapterHost | null, ServingTargetCapabilities>;
