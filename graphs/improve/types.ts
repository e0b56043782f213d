import type { TemplateMessage } from "../../models/index.js";
import type { FailureCategory, TurnRecord } from "../../memory/index.js";
import type { CostReport } from "./gate-cost.js";

/** One failed question, grouped over every turn that asked it. */
export interface HarvestItem {
  id: string;
  question: string;
  /** The most recent failed answer (becomes DPO `rejected`). */
  failedAnswer: string;
  traceIds: string[];
  userId: string;
  createdAt: number;
  category: FailureCategory | null;
  /** The user's correction, when one came with a 👎. */
  correction?: string;
  /** For an answer users rated 👍 (not a failure): the answer the council votes on. */
  ratedAnswer?: string;
}

export interface Candidate {
  id: string;
  itemId: string;
  text: string;
  source: "llm" | "knowledge-base" | "correction" | "rated";
}

export interface Ballot {
  candidateId: string;
  voter: string;
  score: number;
  reason: string;
}

export interface VoteDecision {
  itemId: string;
  accepted: boolean;
  winnerId: string | null;
  winnerScore: number;
  ballots: Ballot[];
  reason: string;
}

export interface EvalCase {
  id: string;
  question: string;
  /** JS regexes: the answer passes when any matches. */
  accept?: string[];
  /** JS regexes: the answer fails when any matches (safety). */
  reject?: string[];
  /** Reference answer, judged by token F1 when no regexes are given. */
  reference?: string;
}

export interface SuiteReport {
  suite: string;
  total: number;
  passedCandidate: number;
  passedCurrent: number;
  successCandidate: number;
  successCurrent: number;
  p95LatencyMsCandidate: number;
  p95LatencyMsCurrent: number;
  passed: boolean;
  reason: string;
  failures: Array<{ id: string; question: string; answer: string }>;
}

/** The gate's metrics, each with its own verdict in gate.json (`metrics`) and on the dashboard (council_gate_metric_passed). */
export type GateMetric = "target" | "holdout" | "regression" | "safety" | "latency" | "cost" | "satisfaction";

/** One metric's verdict. `passed` null: no verdict (no cases, nothing to compare, or judged later on the canary). */
export interface GateMetricVerdict {
  metric: GateMetric;
  passed: boolean | null;
  reason: string;
  /** The measured value, candidate (the canary, for satisfaction) vs current (stable), in `unit`; absent when nothing was measured (and in gate reports written before values were recorded). */
  candidate?: number;
  current?: number;
  /** `share` (0-1: success or 👍 share), `ms` (p95 latency), `tokens` or `characters` (output per answer, on the cases both answer right). */
  unit?: "share" | "ms" | "tokens" | "characters";
  /** The rule the candidate is held to, in words (`≥ current + 3.0 points`). */
  bar?: string;
}

export interface GateReport {
  passed: boolean;
  reasons: string[];
  /** Every metric's verdict, in a fixed order (absent in gate reports written before it was recorded). */
  metrics?: GateMetricVerdict[];
  suites: SuiteReport[];
  /** Cost per answer, candidate vs current (absent in gate reports before it was measured). */
  cost?: CostReport;
  /** Fixed prompts and the candidate's outputs: the server compares them after loading the adapter. */
  probes: Array<{ prompt: string; output: string }>;
  /** What the candidate was compared with: the serving adapter's path, or the base model (bare or through a zero-B twin). */
  current?: string;
}

/** `memory-only`: verified entries were released without an adapter (adapter channel off, nothing to train, or the adapter stopped). */
export type RunOutcome = "promoted" | "rolled-back" | "gate-failed" | "nothing-to-do" | "rejected" | "awaiting-approval" | "failed" | "memory-only";

/** What a night released into verified memory. */
export interface MemoryReleaseInfo {
  /** Accepted by the vote. */
  candidates: number;
  /** Passed their own gate and were written. */
  released: number;
  dropped: Array<{ question: string; reason: string }>;
  /** Adapter version, or `memory:<runId>` for a memory-only release; null when nothing was released. */
  release: string | null;
  status: "canary" | "active" | "withdrawn" | null;
}

export interface TrainingResult {
  adapterDir: string;
  adapterPath: string;
  datasetSha256: string;
  seconds: number;
  finalLoss: number | null;
  skipped: boolean;
}

export type { TemplateMessage, TurnRecord };
