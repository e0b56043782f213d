import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  TokenBias,
  type ChatWrapper,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from "node-llama-cpp";
import { CouncilError, isCouncilError } from "../core/index.js";
import { loopBannedTokens, type LoopBanOptions } from "./loop-ban.js";
import { SequencePool } from "./sequence-pool.js";
import type { AdapterSlotInfo } from "./types.js";

// The llama.cpp plumbing under LlamaChatModel: loading the binding, one context per adapter slot with its
// sequence lanes, the EOS ban, error mapping and the callback-to-iterator bridge.

/** What a slot context is built with. */
export interface SlotOptions {
  parallel: number;
  contextSize: number;
  threads: number | undefined;
}

/** One sequence of a slot context and the completion object bound to it. */
export interface Lane {
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
}

/** One llama.cpp context: the base model, or the base model with one LoRA adapter applied. */
export interface SlotContext {
  context: LlamaContext;
  info: AdapterSlotInfo | null;
  lanes: Lane[];
  pool: SequencePool<Lane>;
  /** Requests holding or waiting for a lane, plus open leases. */
  active: number;
  /** Replaced or removed: disposed once `active` reaches 0. */
  retired: boolean;
}

export async function loadLlama(): Promise<Llama> {
  try {
    return await getLlama({ gpu: false, build: "never", progressLogs: false, logLevel: LlamaLogLevel.error });
  } catch (cause) {
    throw new CouncilError("NATIVE_MISSING", `node-llama-cpp's prebuilt CPU binary did not load: ${(cause as Error).message}. Run npm run setup.`, { cause });
  }
}

/** Models below this size default to one thread per context (see `threads`). */
export const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

/** The default thread count for a model of `bytes` bytes: 1 for small models, else node-llama-cpp's choice. */
export function defaultThreads(bytes: number): number | undefined {
  return bytes < SMALL_MODEL_BYTES ? 1 : undefined;
}

export async function createSlotContext({
  model,
  options,
  adapter,
}: {
  model: LlamaModel;
  options: SlotOptions;
  adapter: AdapterSlotInfo | null;
}): Promise<SlotContext> {
  const context = await model.createContext({
    sequences: options.parallel,
    contextSize: options.contextSize,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
    ...(adapter === null ? {} : { lora: { adapters: [{ filePath: adapter.path, scale: adapter.scale }] } }),
  });
  const lanes: Lane[] = [];
  for (let i = 0; i < options.parallel; i++) {
    const sequence = context.getSequence();
    lanes.push({ sequence, completion: new LlamaCompletion({ contextSequence: sequence }) });
  }
  return { context, info: adapter, lanes, pool: new SequencePool(lanes), active: 0, retired: false };
}

/** The {@link loopBannedTokens} of the tokens generated so far, as a bias (re-evaluated before every token). */
export function loopBias(model: LlamaModel, generated: readonly Token[], options: LoopBanOptions): TokenBias {
  const bias = new TokenBias(model.tokenizer);
  for (const token of loopBannedTokens(generated, options)) bias.set(token as Token, "never");
  return bias;
}

export function eosBan(model: LlamaModel, chatWrapper: ChatWrapper | null): TokenBias {
  const bias = new TokenBias(model.tokenizer);
  for (const token of [model.tokens.eos, model.tokens.eot]) if (token !== null) bias.set(token, "never");
  void chatWrapper;
  return bias;
}

export function toCouncilError(cause: unknown, callerSignal: AbortSignal | undefined): unknown {
  if (isCouncilError(cause)) return cause;
  if (callerSignal?.aborted) return new CouncilError("CANCELLED", "The request was cancelled.", { cause });
  if (cause instanceof Error && cause.name === "AbortError") return new CouncilError("CANCELLED", "The request was cancelled.", { cause });
  return new CouncilError("BACKEND_UNAVAILABLE", `llama.cpp generation failed: ${(cause as Error).message}`, { cause });
}

/** Bridges node-llama-cpp's text callbacks into an async iterator. */
export class ChunkQueue implements AsyncIterable<string> {
  #items: string[] = [];
  #closed = false;
  #wake: (() => void) | undefined;

  push(text: string): void {
    this.#items.push(text);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    for (;;) {
      const item = this.#items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }
}
