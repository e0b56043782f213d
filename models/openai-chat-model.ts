import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { type AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import type { ChatGenerationChunk, ChatResult } from "@langchain/core/outputs";
import { ChatOpenAICompletions } from "@langchain/openai";
import { z } from "zod";
import { CouncilError, isCouncilError } from "../core/index.js";
import type { CouncilCallOptions } from "./types.js";
import { collectStream } from "./collect-stream.js";

const optionsSchema = z.object({
  baseUrl: z.string().url(),
  apiKey: z.string().optional(),
  model: z.string().min(1),
  maxTokens: z.number().int().positive().default(160),
  temperature: z.number().min(0).max(2).default(0),
  maxRetries: z.number().int().min(0).default(1),
  timeoutMs: z.number().int().positive().default(120_000),
});

export type OpenAIChatModelOptions = z.input<typeof optionsSchema>;
type ResolvedOptions = z.output<typeof optionsSchema>;

/**
 * A LangChain chat model for any OpenAI-compatible server (vLLM, llama.cpp server, OpenAI) through
 * @langchain/openai's chat-completions client. The `adapter` call option is sent as the model name,
 * which is how vLLM serves LoRA modules (`--lora-modules name=path`); null/undefined = the base model.
 * Server and network failures become BACKEND_UNAVAILABLE; an unknown adapter (404) ADAPTER_NOT_FOUND.
 */
export class OpenAIChatModel extends BaseChatModel<CouncilCallOptions, AIMessageChunk> {
  readonly #options: ResolvedOptions;
  /** One client per (model, maxTokens, temperature): per-request overrides without mutating shared state. */
  readonly #clients = new Map<string, ChatOpenAICompletions>();

  static override lc_name(): string {
    return "CouncilOpenAIChatModel";
  }

  private constructor(options: ResolvedOptions, params: BaseChatModelParams = {}) {
    super(params);
    this.#options = options;
  }

  /** Validates the options (CONFIG_INVALID). Makes no network call: the server may start later. */
  static async create(options: OpenAIChatModelOptions): Promise<OpenAIChatModel> {
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CouncilError("CONFIG_INVALID", `Invalid openai backend option "${issue.path.join(".")}": ${issue.message}`, { details: { key: issue.path.join(".") } });
    }
    return new OpenAIChatModel(parsed.data);
  }

  _llmType(): string {
    return "council-openai";
  }

  /** The base model name. */
  get modelName(): string {
    return this.#options.model;
  }

  override _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    return collectStream(this._streamResponseChunks(messages, options, runManager));
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const model = options.adapter ?? this.#options.model;
    const client = this.#client({
      model,
      maxTokens: options.maxTokens ?? this.#options.maxTokens,
      temperature: options.temperature ?? this.#options.temperature,
    });
    const innerOptions = { signal: options.signal, stop: options.stop } as unknown as ChatOpenAICompletions["ParsedCallOptions"];
    try {
      for await (const chunk of client._streamResponseChunks(messages, innerOptions, runManager)) yield chunk;
    } catch (cause) {
      throw this.#mapError(cause, { model, adapter: options.adapter ?? null, signal: options.signal });
    }
  }

  #client({ model, maxTokens, temperature }: { model: string; maxTokens: number; temperature: number }): ChatOpenAICompletions {
    const key = JSON.stringify([model, maxTokens, temperature]);
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = new ChatOpenAICompletions({
        model,
        maxTokens,
        temperature,
        apiKey: this.#options.apiKey ?? "not-needed",
        maxRetries: this.#options.maxRetries,
        timeout: this.#options.timeoutMs,
        streaming: true,
        configuration: { baseURL: this.#options.baseUrl },
      });
      this.#clients.set(key, client);
    }
    return client;
  }

  #mapError(cause: unknown, { model, adapter, signal }: { model: string; adapter: string | null; signal: AbortSignal | undefined }): CouncilError {
    if (isCouncilError(cause)) return cause;
    if (signal?.aborted || (cause instanceof Error && cause.name === "AbortError")) return new CouncilError("CANCELLED", "The request was cancelled.", { cause });
    const status = (cause as { status?: unknown }).status;
    const message = cause instanceof Error ? cause.message : String(cause);
    if (status === 404 && adapter !== null) {
      return new CouncilError("ADAPTER_NOT_FOUND", `The server at ${this.#options.baseUrl} does not serve adapter "${adapter}": ${message}`, {
        cause,
        details: { adapter, status },
      });
    }
    return new CouncilError(
      "BACKEND_UNAVAILABLE",
      `OpenAI-compatible server ${this.#options.baseUrl} failed for model "${model}"${typeof status === "number" ? ` (HTTP ${status})` : ""}: ${message}. ` +
        "Check COUNCIL_OPENAI_BASE_URL and that the server is running.",
      { cause, details: { model, ...(typeof status === "number" ? { status } : {}) } },
    );
  }
}
