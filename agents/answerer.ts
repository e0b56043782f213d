import { AIMessage, HumanMessage, SystemMessage, type BaseMessage } from "@langchain/core/messages";
import type { PassageHit } from "../memory/index.js";
import { renderPrompt, TEMPLATE_MARKERS, type TemplateMessage } from "../models/index.js";
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
  /** Verified answers to similar questions, shown as worked examples after the context. @default [] */
  examples?: readonly HistoryTurn[];
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
  examples = [],
  maxPassages = ANSWER_PROMPT_DEFAULTS.maxPassages,
  maxPassageChars = ANSWER_PROMPT_DEFAULTS.maxPassageChars,
  maxHistoryTurns = ANSWER_PROMPT_DEFAULTS.maxHistoryTurns,
}: AnswerPromptInput): TemplateMessage[] {
  const context = passages
    .slice(0, maxPassages)
    .map(({ passage }, index) => `[${index + 1}] ${passage.title}\n${clip(passage.text.trim(), maxPassageChars)}`)
    .join("\n\n");
  let systemText = context.length > 0 ? `${system}\n\nContext:\n${context}` : system;
  if (examples.length > 0) {
    const worked = examples.map((example) => `Q: ${clip(example.question, ANSWER_PROMPT_DEFAULTS.maxHistoryChars)}\nA: ${clip(example.answer, ANSWER_PROMPT_DEFAULTS.maxHistoryChars)}`).join("\n\n");
    systemText += `\n\nVerified answers to similar questions:\n${worked}`;
  }
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
  /** True when generation was stopped because the answer started repeating itself (a runaway answer). */
  runaway: boolean;
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
    const guard = new RunawayGuard();
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
      if (filter.stopped || guard.check(filter.text)) break;
    }
    if (!guard.tripped) emit(filter.flush());
    const tokens = reported ?? chunks;
    const answer = guard.tripped ? guard.cut(filter.text) : filter.text.trim();
    return { answer, tokens, firstTokenMs, generationMs: this.#now() - started, truncated: guard.tripped || (!filter.stopped && tokens >= this.#maxTokens), runaway: guard.tripped };
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

/**
 * Stops a runaway answer: the same non-empty line a second time, or the same 4-word phrase a third time. Small
 * models loop ("- `sudo the when." × 40 lines) instead of ending; generating the loop only costs the user time.
 */
export class RunawayGuard {
  tripped = false;
  #cutAt = -1;

  /** True (and stays true) once `text` has started to repeat itself. */
  check(text: string): boolean {
    if (this.tripped) return true;
    const lines = text.split("\n");
    const seen = new Set<string>();
    let offset = 0;
    // Only complete lines (the last one may still be growing).
    for (const line of lines.slice(0, -1)) {
      const key = line.trim();
      const counts = key.length >= 4 && !key.startsWith("```");
      if (counts && seen.has(key)) return this.#trip(offset);
      if (counts) seen.add(key);
      offset += line.length + 1;
    }
    const tokens = text.toLowerCase().split(/\s+/).filter(Boolean);
    const counts = new Map<string, number>();
    for (let i = 0; i + 4 <= tokens.length; i++) {
      const gram = tokens.slice(i, i + 4).join(" ");
      const count = (counts.get(gram) ?? 0) + 1;
      if (count >= 3) return this.#trip(firstOccurrenceEnd(text, gram));
      counts.set(gram, count);
    }
    return false;
  }

  /** The answer up to where the repetition began. */
  cut(text: string): string {
    return (this.#cutAt >= 0 ? text.slice(0, this.#cutAt) : text).trim();
  }

  #trip(at: number): boolean {
    this.tripped = true;
    this.#cutAt = at;
    return true;
  }
}

/** Where the first occurrence of a repeated phrase ends, so the cut keeps it once. */
function firstOccurrenceEnd(text: string, gram: string): number {
  const words = gram.split(" ");
  const pattern = new RegExp(words.map((word) => word.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\s+"), "i");
  const match = pattern.exec(text);
  return match === null ? -1 : match.index + match[0].length;
}
