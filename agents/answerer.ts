import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import type { PassageHit } from "../memory/types.js";
import { renderPrompt, TEMPLATE_MARKERS, type TemplateMessage } from "../models/prompt-template.js";
import type { CouncilChatModel } from "./types.js";

/** One earlier exchange of the session. */
export interface HistoryTurn {
  question: string;
  answer: string;
}

export const ANSWERER_SYSTEM_PROMPT =
  "You are Council, an IT helpdesk assistant. Answer the user's question briefly and precisely, using the context when it helps. Give the exact command when one exists.";

/** Limits of the answer prompt. Training renders with the same defaults, so keep them in one place. */
export const ANSWER_PROMPT_DEFAULTS = { maxPassages: 3, maxPassageChars: 600, maxHistoryTurns: 2, maxHistoryChars: 400 } as const;

export interface AnswerPromptInput {
  question: string;
  passages: readonly PassageHit[];
  history?: readonly HistoryTurn[];
  /** System prompt (graph spec override). @default ANSWERER_SYSTEM_PROMPT */
  system?: string;
  /** Extra instruction appended to the system message (revisions). */
  note?: string;
  /** @default ANSWER_PROMPT_DEFAULTS.maxPassages */
  maxPassages?: number;
  /** @default ANSWER_PROMPT_DEFAULTS.maxPassageChars */
  maxPassageChars?: number;
  /** @default ANSWER_PROMPT_DEFAULTS.maxHistoryTurns */
  maxHistoryTurns?: number;
}

/**
 * The answerer's prompt as template messages: system (instructions + retrieved context), the last history
 * turns, and the question. The answerer sends exactly this; training renders exactly this (with
 * {@link renderAnswerPrompt}), so an adapter learns the task it serves.
 */
export function buildAnswerMessages({
  question,
  passages,
  history = [],
  system = ANSWERER_SYSTEM_PROMPT,
  note,
  maxPassages = ANSWER_PROMPT_DEFAULTS.maxPassages,
  maxPassageChars = ANSWER_PROMPT_DEFAULTS.maxPassageChars,
  maxHistoryTurns = ANSWER_PROMPT_DEFAULTS.maxHistoryTurns,
}: AnswerPromptInput): TemplateMessage[] {
  const context = passages
    .slice(0, maxPassages)
    .map(({ passage }, index) => `[${index + 1}] ${passage.title}\n${clip(passage.text.trim(), maxPassageChars)}`)
    .join("\n\n");
  let systemText = context.length > 0 ? `${system}\n\nContext:\n${context}` : system;
  if (note !== undefined) systemText += `\n\n${note}`;
  const messages: TemplateMessage[] = [{ role: "system", content: systemText }];
  for (const turn of maxHistoryTurns > 0 ? history.slice(-maxHistoryTurns) : []) {
    messages.push({ role: "user", content: clip(turn.question, ANSWER_PROMPT_DEFAULTS.maxHistoryChars) });
    messages.push({ role: "assistant", content: clip(turn.answer, ANSWER_PROMPT_DEFAULTS.maxHistoryChars) });
  }
  messages.push({ role: "user", content: question.trim() });
  return messages;
}

/** The answerer's prompt as the exact text the model sees (the training prompt). */
export function renderAnswerPrompt(input: AnswerPromptInput): string {
  return renderPrompt(buildAnswerMessages(input));
}

/** Template messages as LangChain messages (the backends map them back with the same template). */
export function toChatMessages(messages: readonly TemplateMessage[]): BaseMessage[] {
  return messages.map((message) =>
    message.role === "system" ? new SystemMessage(message.content) : message.role === "user" ? new HumanMessage(message.content) : new AIMessage(message.content),
  );
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max).trimEnd()}…`;
}

export interface AnswerInput extends AnswerPromptInput {
  /** LoRA slot for this request (null = base model). */
  adapter: string | null;
  signal?: AbortSignal;
  onToken?: (text: string) => void;
}

export interface Answer {
  answer: string;
  /** Tokens generated (the backend's count when it reports one, else streamed chunks). */
  tokens: number;
  /** ms from the call to the first streamed text; undefined when nothing was streamed. */
  firstTokenMs: number | undefined;
  /** ms spent waiting on the model (generation), for the overhead benchmark. */
  generationMs: number;
  /** True when generation stopped at the token limit. */
  truncated: boolean;
}

export interface AnswererOptions {
  model: CouncilChatModel;
  /** @default 160 */
  maxTokens?: number;
  /** System prompt override. */
  system?: string;
  now?: () => number;
}

/** Streams an answer from the model with the answer prompt, passing the per-request adapter. */
export class Answerer {
  readonly #model: CouncilChatModel;
  readonly #maxTokens: number;
  readonly #system: string | undefined;
  readonly #now: () => number;

  constructor({ model, maxTokens = 160, system, now = performance.now.bind(performance) }: AnswererOptions) {
    this.#model = model;
    this.#maxTokens = maxTokens;
    this.#system = system;
    this.#now = now;
  }

  async answer({ adapter, signal, onToken, ...prompt }: AnswerInput): Promise<Answer> {
    const messages = toChatMessages(buildAnswerMessages({ system: this.#system, ...prompt }));
    const started = this.#now();
    const filter = new StopFilter([TEMPLATE_MARKERS.end]);
    let firstTokenMs: number | undefined;
    let chunks = 0;
    let reported: number | undefined;
    const emit = (text: string) => {
      if (text.length === 0) return;
      firstTokenMs ??= this.#now() - started;
      onToken?.(text);
    };
    const stream = await this.#model.stream(messages, { adapter, signal, maxTokens: this.#maxTokens, metadata: { agent: "answerer" }, runName: "answerer" });
    for await (const chunk of stream) {
      chunks += 1;
      reported = chunk.usage_metadata?.output_tokens ?? reported;
      emit(filter.push(chunk.text));
      if (filter.stopped) break;
    }
    emit(filter.flush());
    const tokens = reported ?? chunks;
    return { answer: filter.text.trim(), tokens, firstTokenMs, generationMs: this.#now() - started, truncated: !filter.stopped && tokens >= this.#maxTokens };
  }
}

/**
 * Streams text through, holding back only what could be the start of a stop sequence, and stops at the
 * first stop sequence (template markers must never reach the user). Leading whitespace is dropped.
 */
export class StopFilter {
  text = "";
  stopped = false;
  #pending = "";
  readonly #stops: readonly string[];

  constructor(stops: readonly string[]) {
    this.#stops = stops;
  }

  /** Adds streamed text; returns the part that is safe to show now. */
  push(piece: string): string {
    if (this.stopped) return "";
    let buffer = this.#pending + piece;
    if (this.text.length === 0) buffer = buffer.trimStart();
    for (const stop of this.#stops) {
      const at = buffer.indexOf(stop);
      if (at >= 0) {
        this.stopped = true;
        this.#pending = "";
        return this.#accept(buffer.slice(0, at));
      }
    }
    const hold = this.#holdLength(buffer);
    this.#pending = buffer.slice(buffer.length - hold);
    return this.#accept(buffer.slice(0, buffer.length - hold));
  }

  /** Releases what was held back at the end of the stream. */
  flush(): string {
    const rest = this.#pending;
    this.#pending = "";
    return this.stopped ? "" : this.#accept(rest);
  }

  #accept(text: string): string {
    this.text += text;
    return text;
  }

  #holdLength(buffer: string): number {
    let hold = 0;
    for (const stop of this.#stops) {
      for (let length = Math.min(stop.length - 1, buffer.length); length > hold; length--) {
        if (buffer.endsWith(stop.slice(0, length))) {
          hold = length;
          break;
        }
      }
    }
    return hold;
  }
}
