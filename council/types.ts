import type { FailureCategory, Feedback, TurnRecord } from "../memory/index.js";

export interface TurnRequest {
  /** Client-chosen request id, echoed in frames. */
  id: string;
  sessionId: string;
  userId?: string;
  text: string;
  signal?: AbortSignal;
  onToken?: (text: string) => void;
  /**
   * Called when the critic rejected the streamed answer and a revision starts. When set, the revision's
   * tokens stream through onToken too (clear what was shown first); when not, only `final` carries it.
   */
  onRevise?: (info: { attempt: number; reasons: string[] }) => void;
}

/** One agent's step in a turn: which method produced its result, and why a fallback happened. */
export interface TurnStep {
  agent: string;
  method: "llm" | "heuristic" | "memory";
  fallback?: string;
  ms: number;
}

/** Where a delivered answer came from (the `final` frame's `source`). */
export interface TurnSource {
  kind: "model" | "memory" | "fallback";
  adapter: string | null;
  /** Verified memory entry id (kind memory). */
  entry?: string;
  /** Knowledge-base page quoted (kind fallback). */
  page?: string;
}

export interface TurnResult {
  traceId: string;
  /** What the user gets: the council's answer, a verified answer, or an honest fallback when the critic failed the draft. */
  answer: string;
  source: TurnSource;
  score: number;
  success: boolean;
  route: string;
  /** Adapter version that produced the answer (null = base model). */
  adapter: string | null;
  category: FailureCategory | null;
  reasons: string[];
  latencyMs: number;
  tokens: number;
  /** How the answer came about (router/answerer/critic/revise steps). */
  steps?: TurnStep[];
  /** Revisions made after failing critiques. */
  revisions?: number;
}

/** What the server needs from an assembled council. */
export interface CouncilRuntime {
  turn(request: TurnRequest): Promise<TurnResult>;
  feedback(input: { traceId: string } & Omit<Feedback, "at">): Promise<TurnRecord>;
  trace(traceId: string): Promise<TurnRecord | undefined>;
  /** True once the model is loaded (GET /health). */
  ready(): boolean;
  dispose(): Promise<void>;
}
