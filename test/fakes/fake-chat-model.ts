import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import type { CallbackManagerForLLMRun } from "@langchain/core/callbacks/manager";
import { AIMessage, AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { ChatGenerationChunk, type ChatResult } from "@langchain/core/outputs";
import type { RunnableConfig } from "@langchain/core/runnables";
import type { CouncilCallOptions } from "../../models/types.js";

/** One call the fake received, as a test inspects it. */
export interface FakeChatCall {
  /** `metadata.agent` of the call (agents set it: "router", "answerer", "critic", "agent0", …). */
  agent: string | undefined;
  messages: BaseMessage[];
  /** Per-request LoRA slot (`undefined` when the caller did not pass one). */
  adapter: string | null | undefined;
  options: CouncilCallOptions;
  /** True when the call came through `stream()` or a streaming callback. */
  streamed: boolean;
  /** The scripted text that answered it. */
  text: string;
}

/** What a predicate sees when it decides whether a scripted turn answers a call. */
export interface FakeChatCallInfo {
  agent: string | undefined;
  messages: readonly BaseMessage[];
  /** All message contents joined with newlines: handy for `includes` checks. */
  text: string;
  /** Content of the last message. */
  lastMessage: string;
  adapter: string | null | undefined;
  options: CouncilCallOptions;
}

export interface ScriptedTurn {
  /** Answer only calls whose `metadata.agent` equals this. */
  agent?: string;
  /** Answer only calls for which this returns true. */
  when?: (call: FakeChatCallInfo) => boolean;
  /** The reply. Streamed token by token (see `tokens`). */
  text?: string;
  /** Explicit token split of the reply. @default `text` split before each run of whitespace */
  tokens?: string[];
  /** Throw this instead of replying. */
  error?: Error;
  /** How many calls this turn answers; `Infinity` keeps it forever. @default 1 */
  times?: number;
}

export interface FakeChatModelOptions extends BaseChatModelParams {
  turns?: ScriptedTurn[];
  /**
   * `match`: each call takes the first unused turn whose `agent`/`when` match.
   * `sequence`: each call must match the next unused turn, in order.
   * @default "match"
   */
  order?: "match" | "sequence";
  /** Delay before each streamed token, in ms. @default 0 */
  tokenDelayMs?: number;
  /** Name reported by `getName()`/`_llmType()`. @default "fake-chat" */
  modelName?: string;
}

/** Hidden key that carries `metadata.agent` from the runnable config into the parsed call options. */
const AGENT_KEY = "__fakeAgent";

/**
 * A scripted chat model for unit tests (a fake, not a mock): it implements LangChain's real
 * `BaseChatModel<CouncilCallOptions>`, replays scripted turns, streams them token by token (so
 * `stream()`, callbacks and LangGraph's `streamMode: "messages"` all see tokens), records every call
 * with its messages and `adapter`, and throws on any call no turn was scripted for.
 *
 * ```ts
 * const model = new FakeChatModel({ turns: [
 *   { agent: "router", text: '{"route":"network"}' },
 *   { agent: "answerer", when: (c) => c.lastMessage.includes("VPN"), text: "Restart the VPN client." },
 * ] });
 * ```
 */
export class FakeChatModel extends BaseChatModel<CouncilCallOptions> {
  static override lc_name(): string {
    return "FakeChatModel";
  }

  readonly calls: FakeChatCall[] = [];
  private readonly turns: Array<ScriptedTurn & { used: number }> = [];
  private readonly order: "match" | "sequence";
  private readonly tokenDelayMs: number;
  private readonly modelName: string;

  constructor({ turns = [], order = "match", tokenDelayMs = 0, modelName = "fake-chat", ...rest }: FakeChatModelOptions = {}) {
    super(rest);
    this.order = order;
    this.tokenDelayMs = tokenDelayMs;
    this.modelName = modelName;
    this.script(...turns);
  }

  /** Appends scripted turns. */
  script(...turns: ScriptedTurn[]): this {
    for (const turn of turns) {
      if (turn.text === undefined && turn.error === undefined && turn.tokens === undefined) {
        throw new Error("FakeChatModel: a scripted turn needs text, tokens or error");
      }
      this.turns.push({ ...turn, used: 0 });
    }
    return this;
  }

  /** Scripted turns not yet used up (those with `times: Infinity` never count). */
  pending(): ScriptedTurn[] {
    return this.turns.filter((turn) => Number.isFinite(turn.times ?? 1) && turn.used < (turn.times ?? 1));
  }

  /** Calls made by one agent. */
  callsOf(agent: string): FakeChatCall[] {
    return this.calls.filter((call) => call.agent === agent);
  }

  override getName(): string {
    return this.modelName;
  }

  _llmType(): string {
    return this.modelName;
  }

  protected override _separateRunnableConfigFromCallOptionsCompat(
    options?: Partial<CouncilCallOptions>,
  ): [RunnableConfig, this["ParsedCallOptions"]] {
    const [config, callOptions] = super._separateRunnableConfigFromCallOptionsCompat(options);
    const agent = options?.metadata?.agent;
    if (typeof agent === "string") (callOptions as Record<string, unknown>)[AGENT_KEY] = agent;
    return [config, callOptions];
  }

  async _generate(messages: BaseMessage[], options: this["ParsedCallOptions"]): Promise<ChatResult> {
    const { text, count, error } = this.take(messages, options, false);
    if (error) throw error;
    await this.pause(options.signal);
    const message = new AIMessage({ content: text, usage_metadata: usage(messages, count) });
    return { generations: [{ text, message }] };
  }

  override async *_streamResponseChunks(
    messages: BaseMessage[],
    options: this["ParsedCallOptions"],
    runManager?: CallbackManagerForLLMRun,
  ): AsyncGenerator<ChatGenerationChunk> {
    const { tokens, count, error } = this.take(messages, options, true);
    if (error) throw error;
    for (const [index, token] of tokens.entries()) {
      await this.pause(options.signal);
      const last = index === tokens.length - 1;
      const chunk = new ChatGenerationChunk({
        text: token,
        message: new AIMessageChunk({ content: token, ...(last ? { usage_metadata: usage(messages, count) } : {}) }),
      });
      yield chunk;
      await runManager?.handleLLMNewToken(token, undefined, undefined, undefined, undefined, { chunk });
    }
  }

  private take(messages: BaseMessage[], options: this["ParsedCallOptions"], streamed: boolean) {
    const agent = (options as Record<string, unknown>)[AGENT_KEY] as string | undefined;
    const info: FakeChatCallInfo = {
      agent,
      messages,
      text: messages.map((message) => message.text).join("\n"),
      lastMessage: messages[messages.length - 1]?.text ?? "",
      adapter: options.adapter,
      options,
    };
    const available = this.turns.filter((turn) => turn.used < (turn.times ?? 1));
    const candidates = this.order === "sequence" ? available.slice(0, 1) : available;
    const turn = candidates.find((candidate) => matches(candidate, info));
    if (turn === undefined) {
      const next = this.order === "sequence" && available[0] ? ` (next scripted turn is for agent ${available[0].agent ?? "(any)"})` : "";
      throw new Error(
        `FakeChatModel: unscripted call from agent ${agent ?? "(none)"}${next}; last message: ${JSON.stringify(info.lastMessage.slice(0, 200))}`,
      );
    }
    turn.used += 1;
    const split = turn.tokens ?? splitTokens(turn.text ?? "");
    // An empty reply still streams one (empty) chunk: LangChain rejects a stream with no chunks.
    const tokens = split.length > 0 ? split : [""];
    const text = turn.text ?? tokens.join("");
    const { [AGENT_KEY]: _agent, ...cleanOptions } = options as Record<string, unknown>;
    this.calls.push({ agent, messages, adapter: options.adapter, options: cleanOptions as CouncilCallOptions, streamed, text });
    return { text, tokens, count: split.length, error: turn.error };
  }

  private async pause(signal: AbortSignal | undefined): Promise<void> {
    signal?.throwIfAborted();
    if (this.tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.tokenDelayMs));
    signal?.throwIfAborted();
  }
}

function matches(turn: ScriptedTurn, info: FakeChatCallInfo): boolean {
  if (turn.agent !== undefined && turn.agent !== info.agent) return false;
  return turn.when === undefined || turn.when(info);
}

/** Splits text into word-like tokens that keep their leading whitespace; joined they give the text back. */
export function splitTokens(text: string): string[] {
  return text.match(/\s*\S+|\s+$/g) ?? (text === "" ? [] : [text]);
}

function usage(messages: readonly BaseMessage[], outputTokens: number) {
  const inputTokens = messages.reduce((sum, message) => sum + splitTokens(message.text).length, 0);
  return { input_tokens: inputTokens, output_tokens: outputTokens, total_tokens: inputTokens + outputTokens };
}
