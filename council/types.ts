import type { FailureCategory, Feedback, TurnRecord } from "../memory/types.js";

export interface TurnRequest {
  /** Client-chosen request id, echoed in frames. */
  id: string;
  sessionId: string;
  userId?: string;
  text: string;
  signal?: AbortSignal;
  onToken?: (text: string) => void;
}

export interface TurnResult {
  traceId: string;
  answer: string;
  score: number;
  success: boolean;
  route: string;
  /** Adapter version that produced the answer (null = base model). */
  adapter: string | null;
  category: FailureCategory | null;
  reasons: string[];
  latencyMs: number;
  tokens: number;
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
