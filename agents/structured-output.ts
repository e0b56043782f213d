import type { BaseMessage } from "@langchain/core/messages";
import type { ZodType } from "zod";
import { CouncilError, fail, safeParseJson, type Result } from "../core/index.js";
import type { AgentMode, AgentOutcome, CouncilChatModel } from "./types.js";

export interface StructuredCallOptions<T> {
  model: CouncilChatModel;
  agent: string;
  messages: BaseMessage[];
  schema: ZodType<T>;
  adapter?: string | null;
  signal?: AbortSignal;
  /** @default 96 */
  maxTokens?: number;
}

/**
 * Asks the model for a JSON object and validates it. Streams the reply and stops as soon as the first
 * non-blank character shows the reply is not JSON (a model that cannot follow the format costs one token).
 * Model and backend errors propagate; only unusable output is a failed Result (STRUCTURED_OUTPUT_INVALID).
 */
export async function invokeStructured<T>({ model, agent, messages, schema, adapter = null, signal, maxTokens = 96 }: StructuredCallOptions<T>): Promise<Result<T> & { raw: string }> {
  let raw = "";
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const stream = await model.stream(messages, { adapter, maxTokens, signal: controller.signal, metadata: { agent }, runName: agent });
    for await (const chunk of stream) {
      raw += chunk.text;
      const start = raw.trimStart();
      if (start.length > 0 && !start.startsWith("{") && !start.startsWith("```")) {
        controller.abort();
        break;
      }
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  signal?.throwIfAborted();
  const text = raw.trim();
  const begin = text.indexOf("{");
  const end = text.lastIndexOf("}");
  if (begin < 0 || end < begin) {
    return { ...fail(new CouncilError("STRUCTURED_OUTPUT_INVALID", `${agent}: model output is not a JSON object (${JSON.stringify(text.slice(0, 40))})`)), raw };
  }
  return { ...safeParseJson(text.slice(begin, end + 1), schema, "STRUCTURED_OUTPUT_INVALID"), raw };
}

/**
 * Remembers that a model keeps failing an agent's format (in `auto` mode): after `failures` invalid replies in
 * a row, the next `cooldown` calls skip the model and go straight to the heuristic, then the model is tried
 * again. A model that cannot do JSON (the seedling) then costs nothing; one that can loses one call per cooldown.
 */
export class FallbackBreaker {
  #streak = 0;
  #skip = 0;
  readonly #failures: number;
  readonly #cooldown: number;

  constructor({ failures = 3, cooldown = 20 }: { failures?: number; cooldown?: number } = {}) {
    this.#failures = failures;
    this.#cooldown = cooldown;
  }

  /** Why the model is skipped this call, or undefined to ask it. */
  skipReason(): string | undefined {
    if (this.#skip === 0) return undefined;
    this.#skip -= 1;
    return `skipped the model: its last ${this.#failures} replies were not valid structured output (asking again in ${this.#skip + 1} calls)`;
  }

  record(valid: boolean): void {
    this.#streak = valid ? 0 : this.#streak + 1;
    if (this.#streak >= this.#failures) {
      this.#streak = 0;
      this.#skip = this.#cooldown;
    }
  }
}

export interface ModeRunOptions<T> {
  agent: string;
  mode: AgentMode;
  /** In auto mode, skips the model after repeated invalid replies. */
  breaker?: FallbackBreaker;
  llm: () => Promise<Result<T>>;
  heuristic: () => T | Promise<T>;
  now?: () => number;
}

/**
 * Runs an agent in its configured mode. `llm`: the model's answer or STRUCTURED_OUTPUT_INVALID;
 * `heuristic`: the deterministic fallback only; `auto`: the model first, the fallback when its output
 * is unusable, with the reason in the step.
 */
export async function runWithMode<T>({ agent, mode, llm, heuristic, breaker, now = performance.now.bind(performance) }: ModeRunOptions<T>): Promise<AgentOutcome<T>> {
  const started = now();
  const skipped = mode === "auto" ? breaker?.skipReason() : undefined;
  if (skipped !== undefined) {
    const value = await heuristic();
    return { value, step: { agent, method: "heuristic", fallback: skipped, ms: now() - started } };
  }
  if (mode !== "heuristic") {
    const result = await llm();
    if (mode === "auto") breaker?.record(result.success);
    if (result.success) return { value: result.value, step: { agent, method: "llm", ms: now() - started } };
    if (mode === "llm") throw result.error;
    const value = await heuristic();
    return { value, step: { agent, method: "heuristic", fallback: result.error.message, ms: now() - started } };
  }
  const value = await heuristic();
  return { value, step: { agent, method: "heuristic", ms: now() - started } };
}
