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

export interface ModeRunOptions<T> {
  agent: string;
  mode: AgentMode;
  llm: () => Promise<Result<T>>;
  heuristic: () => T | Promise<T>;
  now?: () => number;
}

/**
 * Runs an agent in its configured mode. `llm`: the model's answer or STRUCTURED_OUTPUT_INVALID;
 * `heuristic`: the deterministic fallback only; `auto`: the model first, the fallback when its output
 * is unusable, with the reason in the step.
 */
export async function runWithMode<T>({ agent, mode, llm, heuristic, now = performance.now.bind(performance) }: ModeRunOptions<T>): Promise<AgentOutcome<T>> {
  const started = now();
  if (mode !== "heuristic") {
    const result = await llm();
    if (result.success) return { value: result.value, step: { agent, method: "llm", ms: now() - started } };
    if (mode === "llm") throw result.error;
    const value = await heuristic();
    return { value, step: { agent, method: "heuristic", fallback: result.error.message, ms: now() - started } };
  }
  const value = await heuristic();
  return { value, step: { agent, method: "heuristic", ms: now() - started } };
}
