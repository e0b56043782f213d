import { realpath } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import { AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import { z } from "zod";
import { CouncilError, isCouncilError, safeParseJson } from "../core/index.js";
import { toTemplateMessages } from "./langchain-messages.js";
import type { LlamaCallOptions } from "./llama-chat-model.js";
import { renderPrompt, TEMPLATE_MARKERS } from "./prompt-template.js";
import type { AdapterHost, AdapterSlotInfo } from "./types.js";
import { collectStream } from "./collect-stream.js";

const loraListSchema = z.array(z.object({ id: z.number().int(), path: z.string(), scale: z.number() }));
const streamEventSchema = z
  .object({
    content: z.string().optional(),
    stop: z.boolean().optional(),
    stop_type: z.string().optional(),
    tokens_predicted: z.number().optional(),
    tokens_evaluated: z.number().optional(),
    error: z.object({ message: z.string() }).passthrough().optional(),
  })
  .passthrough();

export interface LlamaServerChatModelOptions {
  /** Root URL of a running `llama-server` (e.g. http://127.0.0.1:8081). */
  baseUrl: string;
  /** @default 160 */
  maxTokens?: number;
  /** @default 0 */
  temperature?: number;
  /** Per-request deadline. @default 120000 */
  timeoutMs?: number;
}

interface ServerAdapter {
  id: number;
  path: string;
}

/**
 * A LangChain chat model served by llama.cpp's own `llama-server`. LoRA adapters are preloaded by the server
 * (`--lora a.gguf --lora b.gguf --lora-init-without-apply`); a Council slot maps to one of them, and each request
 * carries its own `lora` list (`[{ id, scale }]`, others at scale 0), so requests on different adapters run side by
 * side and swapping a slot never touches requests already streaming (they carry the old id). `setServerDefault`
 * sets the server-wide scales through `POST /lora-adapters` for clients that send no `lora` field.
 *
 * Prompts use the shared plain-text template ({@link renderPrompt}) on `/completion`, stopping on
 * `TEMPLATE_MARKERS.end`, exactly like the in-process `llama` backend.
 */
export class LlamaServerChatModel extends BaseChatModel<LlamaCallOptions, AIMessageChunk> implements AdapterHost {
  readonly #baseUrl: string;
  readonly #defaults: { maxTokens: number; temperature: number; timeoutMs: number };
  readonly #serverAdapters: ServerAdapter[];
  readonly #slots = new Map<string, AdapterSlotInfo & { id: number }>();

  static override lc_name(): string {
    return "CouncilLlamaServerChatModel";
  }

  private constructor(baseUrl: string, defaults: { maxTokens: number; temperature: number; timeoutMs: number }, serverAdapters: ServerAdapter[], params: BaseChatModelParams = {}) {
    super(params);
    this.#baseUrl = baseUrl;
    this.#defaults = defaults;
    this.#serverAdapters = serverAdapters;
  }

  /** Connects and reads the server's preloaded adapters. BACKEND_UNAVAILABLE when the server does not answer. */
  static async create({ baseUrl, maxTokens = 160, temperature = 0, timeoutMs = 120_000 }: LlamaServerChatModelOptions): Promise<LlamaServerChatModel> {
    const root = baseUrl.replace(/\/+$/, "").replace(/\/v1$/, "");
    const response = await request(root, "/lora-adapters", { method: "GET" }, 10_000);
    const parsed = safeParseJson(await response.text(), loraListSchema);
    if (!parsed.success) throw new CouncilError("BACKEND_UNAVAILABLE", `${root}/lora-adapters did not return an adapter list: ${parsed.error.message}`);
    const adapters = await Promise.all(parsed.value.map(async ({ id, path }) => ({ id, path: await realpath(path).catch(() => path) })));
    return new LlamaServerChatModel(root, { maxTokens, temperature, timeoutMs }, adapters);
  }

  _llmType(): string {
    return "council-llama-server";
  }

  /** The adapters the server was started with (`--lora`), by id. */
  get serverAdapters(): readonly ServerAdapter[] {
    return this.#serverAdapters;
  }

  adapters(): AdapterSlotInfo[] {
    return [...this.#slots.values()].map(({ id: _id, ...info }) => ({ ...info }));
  }

  /**
   * Points `slot` at a preloaded adapter (matched by real path, else by its registry version folder). New requests on the slot use it at once;
   * requests already streaming keep the adapter they started with. ADAPTER_NOT_FOUND when the server was not
   * started with this file (llama-server loads adapters only at start-up).
   */
  async setAdapter({ slot, path, version, scale = 1 }: { slot: string; path: string; version: string; scale?: number }): Promise<AdapterSlotInfo> {
    if (slot.trim() === "") throw new CouncilError("ADAPTER_NOT_FOUND", "An adapter slot needs a non-empty name.");
    if (!Number.isFinite(scale)) throw new CouncilError("ADAPTER_INVALID", `Adapter scale must be a finite number, got ${scale}.`);
    const resolved = await realpath(path).catch((cause: unknown) => {
      throw new CouncilError("ADAPTER_NOT_FOUND", `Adapter file ${path} does not exist.`, { cause, details: { path } });
    });
    // Same file, else the same registry version (`…/versions/<version>/adapter.gguf`): replicas on other hosts (or
    // other data dirs) hold the version at another path, and the release record names the version, not the path.
    const loaded = this.#serverAdapters.find((adapter) => adapter.path === resolved) ?? this.#serverAdapters.find((adapter) => basename(dirname(adapter.path)) === version && basename(adapter.path) === basename(resolved));
    if (loaded === undefined) {
      throw new CouncilError(
        "ADAPTER_NOT_FOUND",
        `llama-server at ${this.#baseUrl} has not loaded ${resolved}. Start it with \`--lora ${resolved} --lora-init-without-apply\` (it loads adapters only at start-up).`,
        { details: { path: resolved } },
      );
    }
    const info = { slot, version, path: resolved, scale, id: loaded.id };
    this.#slots.set(slot, info);
    const { id: _id, ...publicInfo } = info;
    return publicInfo;
  }

  async removeAdapter(slot: string): Promise<void> {
    if (!this.#slots.delete(slot)) throw new CouncilError("ADAPTER_NOT_FOUND", `No adapter is set in slot "${slot}".`, { details: { slot } });
  }

  /** Sets the server-wide default (`POST /lora-adapters`): the slot's adapter at its scale, all others at 0; null = base. */
  async setServerDefault(slot: string | null): Promise<void> {
    const chosen = slot === null ? undefined : this.#slotInfo(slot);
    const body = this.#serverAdapters.map(({ id }) => ({ id, scale: chosen !== undefined && chosen.id === id ? chosen.scale : 0 }));
    await request(this.#baseUrl, "/lora-adapters", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } }, this.#defaults.timeoutMs);
  }

  override _generate(messages: BaseMessage[], options: this["ParsedCallOptions"], runManager?: CallbackManagerForLLMRun): Promise<ChatResult> {
    return collectStream(this._streamResponseChunks(messages, options, runManager));
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    // Resolve the slot now: a swap after this point does not change this request.
    const slot = options.adapter === null || options.adapter === undefined ? undefined : this.#slotInfo(options.adapter);
    const ignoreEos = options.ignoreEos === true;
    const body = {
      prompt: renderPrompt(toTemplateMessages(messages)),
      n_predict: options.maxTokens ?? this.#defaults.maxTokens,
      temperature: options.temperature ?? this.#defaults.temperature,
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      stop: ignoreEos ? [] : [TEMPLATE_MARKERS.end, ...(options.stop ?? [])],
      ignore_eos: ignoreEos,
      stream: true,
      cache_prompt: true,
      lora: slot === undefined ? [] : [{ id: slot.id, scale: slot.scale }],
    };
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(this.#defaults.timeoutMs)]) : AbortSignal.timeout(this.#defaults.timeoutMs);
    try {
      const response = await request(this.#baseUrl, "/completion", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" }, signal }, this.#defaults.timeoutMs);
      let outputTokens = 0;
      for await (const data of sseData(response, signal)) {
        const event = safeParseJson(data, streamEventSchema);
        if (!event.success) throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server sent an unreadable event: ${data.slice(0, 200)}`);
        if (event.value.error) throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server failed: ${event.value.error.message}`);
        const content = event.value.content ?? "";
        if (content !== "") {
          outputTokens++;
          yield new ChatGenerationChunk({ text: content, message: new AIMessageChunk({ content }) });
          await runManager?.handleLLMNewToken(content);
        }
        if (event.value.stop === true) {
          const output = event.value.tokens_predicted ?? outputTokens;
          const input = event.value.tokens_evaluated ?? 0;
          yield new ChatGenerationChunk({
            text: "",
            message: new AIMessageChunk({
              content: "",
              response_metadata: { stopReason: event.value.stop_type ?? "stop", adapter: slot?.slot ?? null, adapterVersion: slot?.version ?? null },
              usage_metadata: { input_tokens: input, output_tokens: output, total_tokens: input + output },
            }),
          });
          return;
        }
      }
      throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server at ${this.#baseUrl} closed the stream before the end of the answer.`);
    } catch (cause) {
      if (isCouncilError(cause)) throw cause;
      if (options.signal?.aborted) throw new CouncilError("CANCELLED", "The request was cancelled.", { cause });
      if (signal.aborted) throw new CouncilError("TIMEOUT", `llama-server did not answer within ${this.#defaults.timeoutMs} ms.`, { cause });
      throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server at ${this.#baseUrl} failed: ${(cause as Error).message}`, { cause });
    }
  }

  #slotInfo(slot: string): AdapterSlotInfo & { id: number } {
    const info = this.#slots.get(slot);
    if (info === undefined) {
      throw new CouncilError("ADAPTER_NOT_FOUND", `No adapter is set in slot "${slot}". Set: ${[...this.#slots.keys()].join(", ") || "none"}.`, { details: { slot } });
    }
    return info;
  }
}

/**
 * A kept-alive connection the server closed as the request went out (llama.cpp's HTTP server closes idle
 * connections and ends each after a few requests): nothing was answered, so sending it again on a fresh connection
 * is safe (a completion has no side effects). Seen in the CI dry run of 2026-12-07 as "other side closed".
 */
function closedBeforeAnswer(cause: unknown): boolean {
  const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
  return inner?.code === "UND_ERR_SOCKET" || inner?.code === "ECONNRESET" || /other side closed/.test(inner?.message ?? "");
}

async function request(root: string, path: string, init: RequestInit, timeoutMs: number): Promise<Response> {
  let response: Response;
  const signal = init.signal ?? AbortSignal.timeout(timeoutMs);
  try {
    try {
      response = await fetch(`${root}${path}`, { ...init, signal });
    } catch (cause) {
      if (signal.aborted || !closedBeforeAnswer(cause)) throw cause;
      response = await fetch(`${root}${path}`, { ...init, signal });
    }
  } catch (cause) {
    if (init.signal?.aborted) throw cause;
    throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server at ${root} is not reachable (${(cause as Error).message}). Check COUNCIL_LLAMA_SERVER_URL and that the server runs.`, {
      cause,
    });
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw new CouncilError("BACKEND_UNAVAILABLE", `llama-server ${path} answered HTTP ${response.status}: ${text.slice(0, 300)}`, { details: { status: response.status } });
  }
  return response;
}

/** The `data:` payloads of a server-sent-events response. */
async function* sseData(response: Response, signal: AbortSignal): AsyncGenerator<string> {
  if (response.body === null) return;
  const decoder = new TextDecoder();
  let buffer = "";
  const reader = response.body.getReader();
  try {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      const { done, value } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const data = event
          .split("\n")
          .filter((line) => line.startsWith("data:"))
          .map((line) => line.slice(5).trimStart())
          .join("\n");
        if (data !== "" && data !== "[DONE]") yield data;
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}
