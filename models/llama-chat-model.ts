import { realpath, stat } from "node:fs/promises";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { LlamaText, resolveChatWrapper, type ChatHistoryItem, type ChatWrapper, type Llama, type LlamaModel, type Token } from "node-llama-cpp";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { toTemplateMessages } from "./langchain-messages.js";
import { readAdapterBaseInfo, validateAdapterForBase, type AdapterBaseInfo } from "./gguf/index.js";
import { resolveModelSource } from "./llama-model-source.js";
import { renderPrompt, TEMPLATE_MARKERS } from "./prompt-template.js";
import { LOOP_BAN_DEFAULTS, type LoopBanOptions } from "./loop-ban.js";
import { ChunkQueue, createSlotContext, defaultThreads, eosBan, loadLlama, loopBias, toCouncilError, type Lane, type SlotContext } from "./llama-slot-context.js";
import type { AdapterHost, AdapterLease, AdapterSlotInfo, CouncilCallOptions } from "./types.js";
import { collectStream } from "./collect-stream.js";

export interface LlamaCallOptions extends CouncilCallOptions {
  /** Sampling seed when `temperature` > 0. */
  seed?: number;
  /**
   * Generate exactly `maxTokens` tokens: end-of-generation tokens are banned and stop sequences ignored.
   * For benchmarks that compare token rates at a fixed token count. @default false
   */
  ignoreEos?: boolean;
}

/** Checks an adapter file against the base model before llama.cpp sees it. Throws ADAPTER_NOT_FOUND / ADAPTER_INVALID / ADAPTER_MISMATCH. */
export type AdapterValidator = (options: { adapterPath: string; base: AdapterBaseInfo }) => Promise<unknown>;

/** The default {@link AdapterValidator}: a LoRA adapter GGUF whose architecture, tensors, shapes and recorded base hash fit. */
export const validateLoraAdapter: AdapterValidator = ({ adapterPath, base }) => validateAdapterForBase({ adapter: adapterPath, base });

export interface LlamaChatModelOptions {
  /** A GGUF path or an `hf:` URI already present in `modelsDir` (Council never downloads). */
  modelPath: string;
  /** Local folder of `hf:` models. @default <cwd>/models/hf */
  modelsDir?: string;
  /**
   * CPU threads per evaluation (per slot context). @default 1 for models under {@link SMALL_MODEL_BYTES}
   * (the seedling: per-token work is tiny, and llama.cpp's spinning thread pool on a busy machine makes more
   * threads much slower), else node-llama-cpp's default (all math cores)
   */
  threads?: number;
  /** Tokens per sequence. @default 2048 */
  contextSize?: number;
  /** Sequences per context: requests generated at once on one slot. @default 2 */
  parallel?: number;
  /** @default 160 */
  maxTokens?: number;
  /** 0 = greedy. @default 0 */
  temperature?: number;
  /** Checks adapters before loading. @default validateLoraAdapter (models/gguf validateAdapterForBase) */
  /**
   * Ban the token that would continue a short cycle of generated tokens (see {@link loopBannedTokens}); false = off.
   * Measured on the reading seedling (bench/seedling-reading.ts). @default LOOP_BAN_DEFAULTS
   */
  loopBan?: LoopBanOptions | false;
  validateAdapter?: AdapterValidator;
  /** Share one llama.cpp binding between models (e.g. with LlamaEmbeddings). @default a CPU-only instance */
  llama?: Llama;
  logger?: Logger;
}


interface Internals {
  llama: Llama;
  ownsLlama: boolean;
  model: LlamaModel;
  modelPath: string;
  chatWrapper: ChatWrapper | null;
  base: SlotContext;
  options: Required<Pick<LlamaChatModelOptions, "parallel" | "contextSize" | "maxTokens" | "temperature" | "validateAdapter" | "loopBan">> & {
    threads: number | undefined;
  };
  logger: Logger;
}

/**
 * A LangChain chat model on node-llama-cpp, in process, CPU only. LoRA adapters live in named slots, one
 * llama.cpp context each (node-llama-cpp applies LoRA per context), with `parallel` sequences per context.
 * Each request picks its slot with the `adapter` call option (null/undefined = base model), so requests on
 * different adapters generate concurrently. Replacing a slot builds the new context first, then retires the
 * old one, which is disposed only after its in-flight requests finish.
 *
 * Models without a chat template of their own (the seedling) are prompted with {@link renderPrompt} and stop
 * on `TEMPLATE_MARKERS.end`; models with one use node-llama-cpp's chat wrapper for it.
 */
export class LlamaChatModel extends BaseChatModel<LlamaCallOptions, AIMessageChunk> implements AdapterHost {
  readonly #internals: Internals;
  readonly #slots = new Map<string, SlotContext>();
  readonly #slotLocks = new Map<string, Promise<unknown>>();
  /** Open leases by their call-option key: each keeps the context its slot held when it was taken. */
  readonly #leases = new Map<string, SlotContext>();
  #nextLease = 1;
  readonly #inFlight = new Set<AbortController>();
  /** Running llama.cpp generations; dispose waits for them before freeing contexts. */
  readonly #generations = new Set<Promise<unknown>>();
  #disposed = false;
  #baseInfo: Promise<AdapterBaseInfo> | undefined;
  /** Size and mtime of each adapter file llama.cpp has loaded: node-llama-cpp caches adapters by path for the model's life. */
  readonly #loadedFiles = new Map<string, string>();

  static override lc_name(): string {
    return "CouncilLlamaChatModel";
  }

  private constructor(internals: Internals, params: BaseChatModelParams = {}) {
    super(params);
    this.#internals = internals;
  }

  /** Loads the model and its base context. Errors: MODEL_NOT_FOUND, MODEL_INVALID, MODEL_DOWNLOAD_OFFLINE, BACKEND_UNAVAILABLE. */
  static async create({
    modelPath,
    modelsDir,
    threads,
    contextSize = 2048,
    parallel = 2,
    maxTokens = 160,
    temperature = 0,
    loopBan = LOOP_BAN_DEFAULTS,
    validateAdapter = validateLoraAdapter,
    llama,
    logger = silentLogger,
  }: LlamaChatModelOptions): Promise<LlamaChatModel> {
    const path = await resolveModelSource({ source: modelPath, ...(modelsDir === undefined ? {} : { modelsDir }) });
    const ownsLlama = llama === undefined;
    const binding = llama ?? (await loadLlama());
    let model: LlamaModel;
    try {
      model = await binding.loadModel({ modelPath: path });
    } catch (cause) {
      if (ownsLlama) await binding.dispose();
      throw new CouncilError("MODEL_INVALID", `llama.cpp could not load ${path}: ${(cause as Error).message}`, { cause, details: { path } });
    }
    const options = { parallel, contextSize, maxTokens, temperature, loopBan, validateAdapter, threads: threads ?? defaultThreads(model.size) };
    try {
      const hasTemplate = typeof model.fileInfo.metadata.tokenizer?.chat_template === "string";
      const chatWrapper = hasTemplate ? resolveChatWrapper(model) : null;
      const base = await createSlotContext({ model, options, adapter: null });
      logger.info({ modelPath: path, parallel, contextSize, threads: options.threads ?? "auto", chatTemplate: hasTemplate }, "llama model loaded");
      return new LlamaChatModel({ llama: binding, ownsLlama, model, modelPath: path, chatWrapper, base, options, logger });
    } catch (cause) {
      await model.dispose();
      if (ownsLlama) await binding.dispose();
      throw new CouncilError("BACKEND_UNAVAILABLE", `Could not create a llama.cpp context for ${path}: ${(cause as Error).message}`, { cause });
    }
  }

  _llmType(): string {
    return "council-llama";
  }

  /** The resolved GGUF path of the base model. */
  get modelPath(): string {
    return this.#internals.modelPath;
  }

  /** The underlying node-llama-cpp model (tokenizer, metadata). */
  get model(): LlamaModel {
    return this.#internals.model;
  }

  adapters(): AdapterSlotInfo[] {
    return [...this.#slots.values()].map((slot) => ({ ...slot.info! }));
  }

  async setAdapter({ slot, path, version, scale = 1 }: { slot: string; path: string; version: string; scale?: number }): Promise<AdapterSlotInfo> {
    this.#assertOpen();
    if (slot.trim() === "") throw new CouncilError("ADAPTER_NOT_FOUND", "An adapter slot needs a non-empty name.");
    if (!Number.isFinite(scale)) throw new CouncilError("ADAPTER_INVALID", `Adapter scale must be a finite number, got ${scale}.`);
    return this.#withSlotLock(slot, async () => {
      this.#baseInfo ??= readAdapterBaseInfo(this.#internals.modelPath);
      const base = await this.#baseInfo.catch((cause: unknown) => {
        this.#baseInfo = undefined;
        throw cause;
      });
      await this.#internals.options.validateAdapter({ adapterPath: path, base });
      // node-llama-cpp caches loaded adapters by path: use the real path so a re-pointed symlink loads the new file.
      const filePath = await realpath(path);
      const fileInfo = await stat(filePath);
      const fingerprint = `${fileInfo.size}:${fileInfo.mtimeMs}`;
      const seen = this.#loadedFiles.get(filePath);
      if (seen !== undefined && seen !== fingerprint) {
        throw new CouncilError(
          "ADAPTER_INVALID",
          `Adapter file ${filePath} changed in place after it was loaded; llama.cpp keeps the first version of a path in memory. Write each adapter version to a new path (the registry's content-hashed folders do).`,
          { details: { path: filePath } },
        );
      }
      const info: AdapterSlotInfo = { slot, version, path: filePath, scale };
      let next: SlotContext;
      try {
        next = await createSlotContext({ model: this.#internals.model, options: this.#internals.options, adapter: info });
      } catch (cause) {
        throw new CouncilError("ADAPTER_INVALID", `llama.cpp could not apply adapter ${path}: ${(cause as Error).message}`, { cause, details: { path } });
      }
      this.#loadedFiles.set(filePath, fingerprint);
      this.#assertOpen();
      const previous = this.#slots.get(slot);
      this.#slots.set(slot, next);
      if (previous !== undefined) this.#retire(previous);
      this.#internals.logger.info({ slot, version, previousVersion: previous?.info?.version }, "adapter-swapped");
      return { ...info };
    });
  }

  async removeAdapter(slot: string): Promise<void> {
    await this.#withSlotLock(slot, async () => {
      const current = this.#slots.get(slot);
      if (current === undefined) throw new CouncilError("ADAPTER_NOT_FOUND", `No adapter is loaded in slot "${slot}".`, { details: { slot } });
      this.#slots.delete(slot);
      this.#retire(current);
      this.#internals.logger.info({ slot, version: current.info?.version }, "adapter-removed");
    });
  }

  leaseAdapter(slot: string): AdapterLease {
    this.#assertOpen();
    const context = this.#slotFor(slot);
    const key = `${slot}#lease-${this.#nextLease++}`;
    context.active++;
    this.#leases.set(key, context);
    const info = context.info!;
    return {
      slot: key,
      version: info.version,
      release: () => {
        if (!this.#leases.delete(key) || this.#disposed) return;
        context.active--;
        this.#maybeDisposeRetired(context);
      },
    };
  }

  override _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    return collectStream(this._streamResponseChunks(messages, options, runManager));
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    this.#assertOpen();
    const { model, chatWrapper, options: defaults } = this.#internals;
    const { input, stops } = this.#prompt(messages);
    const slot = this.#slotFor(options.adapter);
    const controller = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, controller.signal]) : controller.signal;
    this.#inFlight.add(controller);
    slot.active++;
    let lane: Lane | undefined;
    try {
      lane = await slot.pool.acquire(signal);
      const queue = new ChunkQueue();
      let outputTokens = 0;
      const ignoreEos = options.ignoreEos === true;
      const generated: Token[] = [];
      const loopBan = defaults.loopBan;
      const generation = lane.completion
        .generateCompletionWithMeta(input, {
          maxTokens: options.maxTokens ?? defaults.maxTokens,
          temperature: options.temperature ?? defaults.temperature,
          ...(options.seed === undefined ? {} : { seed: options.seed }),
          customStopTriggers: ignoreEos ? [] : [...stops, ...(options.stop ?? [])],
          ...(ignoreEos ? { tokenBias: eosBan(model, chatWrapper) } : loopBan === false ? {} : { tokenBias: () => loopBias(model, generated, loopBan) }),
          signal,
          onToken: (tokens) => {
            outputTokens += tokens.length;
            if (loopBan !== false) generated.push(...tokens);
          },
          onTextChunk: (text) => queue.push(text),
        })
        .then(
          (result) => {
            queue.close();
            return result;
          },
          (error: unknown) => {
            queue.close();
            throw error;
          },
        );
      // Keep the rejection observed while the consumer is still reading chunks.
      const settled = generation.catch(() => undefined);
      this.#generations.add(settled);
      void settled.then(() => this.#generations.delete(settled));
      try {
        for await (const text of queue) {
          yield new ChatGenerationChunk({ text, message: new AIMessageChunk({ content: text }) });
          await runManager?.handleLLMNewToken(text);
        }
        const result = await generation;
        const inputTokens = typeof input === "string" ? model.tokenize(input).length : input.tokenize(model.tokenizer).length;
        yield new ChatGenerationChunk({
          text: "",
          message: new AIMessageChunk({
            content: "",
            response_metadata: { stopReason: result.metadata.stopReason, adapter: slot.info?.slot ?? null, adapterVersion: slot.info?.version ?? null },
            usage_metadata: { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens },
          }),
        });
      } finally {
        // The consumer stopped early or generation failed: stop llama.cpp before the lane is reused.
        controller.abort();
        await generation.catch(() => undefined);
      }
    } catch (cause) {
      throw toCouncilError(cause, options.signal);
    } finally {
      this.#inFlight.delete(controller);
      if (lane !== undefined) slot.pool.release(lane);
      slot.active--;
      this.#maybeDisposeRetired(slot);
    }
  }

  /** Aborts in-flight requests, frees every context, the model and (if owned) the llama.cpp binding. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    for (const controller of this.#inFlight) controller.abort(new CouncilError("CANCELLED", "The model was disposed."));
    // llama.cpp must not see its context freed under a running evaluation: let aborted generations settle first.
    await Promise.allSettled([...this.#generations, ...this.#slotLocks.values()]);
    const contexts = [...new Set([this.#internals.base, ...this.#slots.values(), ...this.#leases.values()])];
    this.#slots.clear();
    this.#leases.clear();
    for (const slot of contexts) slot.pool.close();
    await Promise.allSettled(contexts.map((slot) => slot.context.dispose()));
    await this.#internals.model.dispose();
    if (this.#internals.ownsLlama) await this.#internals.llama.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  #prompt(messages: BaseMessage[]): { input: string | LlamaText; stops: (string | LlamaText)[] } {
    const templated = toTemplateMessages(messages);
    const { chatWrapper } = this.#internals;
    if (chatWrapper === null) return { input: renderPrompt(templated), stops: [TEMPLATE_MARKERS.end] };
    const history: ChatHistoryItem[] = templated.map((message) =>
      message.role === "assistant"
        ? { type: "model", response: [message.content] }
        : { type: message.role, text: message.content },
    );
    if (templated.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
    const state = chatWrapper.generateContextState({ chatHistory: history });
    return { input: state.contextText, stops: state.stopGenerationTriggers };
  }

  #slotFor(adapter: string | null | undefined): SlotContext {
    if (adapter === null || adapter === undefined) return this.#internals.base;
    const slot = this.#leases.get(adapter) ?? this.#slots.get(adapter);
    if (slot === undefined) {
      throw new CouncilError("ADAPTER_NOT_FOUND", `No adapter is loaded in slot "${adapter}". Loaded: ${[...this.#slots.keys()].join(", ") || "none"}.`, {
        details: { slot: adapter },
      });
    }
    return slot;
  }

  #retire(slot: SlotContext): void {
    slot.retired = true;
    this.#maybeDisposeRetired(slot);
  }

  #maybeDisposeRetired(slot: SlotContext): void {
    if (!slot.retired || slot.active > 0) return;
    slot.pool.close();
    void slot.context.dispose().catch((error: unknown) => this.#internals.logger.warn({ err: error }, "disposing a retired context failed"));
  }

  async #withSlotLock<T>(slot: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#slotLocks.get(slot) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.#slotLocks.set(slot, next);
    try {
      return await next;
    } finally {
      if (this.#slotLocks.get(slot) === next) this.#slotLocks.delete(slot);
    }
  }

  #assertOpen(): void {
    if (this.#disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "This llama chat model was disposed.");
  }
}
