import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { CouncilCallOptions } from "../models/index.js";

/** How an agent decides: ask the model (`llm`), use its deterministic fallback (`heuristic`), or try the model first (`auto`). */
export type AgentMode = "llm" | "heuristic" | "auto";

/** The chat model every agent talks to. */
export type CouncilChatModel = BaseChatModel<CouncilCallOptions>;

/** One agent's step in a turn's trace: which method produced the result, and why a fallback happened. */
export interface AgentStep {
  agent: string;
  /** `memory`: a verified memory entry answered (no generation). */
  method: "llm" | "heuristic" | "memory";
  /** Set when the model was asked but its output was unusable, so the heuristic did the job. */
  fallback?: string;
  ms: number;
}

/** An agent's result with its trace step. */
export interface AgentOutcome<T> {
  value: T;
  step: AgentStep;
}
