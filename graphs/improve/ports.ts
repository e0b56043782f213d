import type { EventSink, MemoryStore, VerifiedMemory } from "../../memory/index.js";
import type { TemplateMessage } from "../../models/index.js";
import type { TrainProgress } from "../../training/index.js";
import type { NightlyDataset } from "../../training/datasets/index.js";
import type { AnswerPort } from "./gate.js";
import type { Candidate, EvalCase, GateReport, HarvestItem, VoteDecision } from "./types.js";

/**
 * What the improvement graph needs from the rest of Council. council/ wires the real pieces
 * (agent0, voting members, the LoRA trainer, the adapter registry, the canary); tests pass fakes.
 */
export interface ImprovePorts {
  memory: MemoryStore;
  /** The event log: ballots, dataset, training, gate verdict, approval, deploy, promotion and rollback are appended to it. Absent: nothing is logged. */
  events?: EventSink;
  /** Verified memory the night releases accepted answers into (absent: the memory channel is off). */
  verified?: VerifiedMemory;
  /** Agent-0: candidate rewrites (LLM rewrite with KB context, KB-grounded answer, the user's correction). */
  rewrite(item: HarvestItem): Promise<Candidate[]>;
  /** Every council member casts a ballot per candidate; quorum and tally decide. */
  vote(item: HarvestItem, candidates: Candidate[]): Promise<VoteDecision>;
  /** Exactly the messages the answerer sends for this question (same template, same retrieved context). */
  promptMessages(question: string): Promise<TemplateMessage[]>;
  /** Trains an adapter on the night's dataset (folder, sha256, example count); must write `${outDir}/adapter.gguf` and `${outDir}/training.json`. */
  train(options: { dataset: NightlyDataset; outDir: string; signal?: AbortSignal; onProgress?: (progress: TrainProgress) => void }): Promise<{ finalLoss: number | null }>;
  /**
   * Writes the adapter's scope — the questions it was trained to fix (every night's, training is cumulative), and
   * `keep`, the questions that passed without it (the regression cases) — into the adapter file, so serving and the gate use it only near them (training/adapter-scope.ts). Idempotent; absent or
   * switched off by config: the adapter applies everywhere.
   */
  scopeAdapter?(options: { adapterPath: string; questions: readonly string[]; keep: readonly string[] }): Promise<void>;
  /** Whether the adapter file applies to the question (its scope); absent: every adapter applies everywhere. */
  adapterInScope?(adapterPath: string, question: string): Promise<boolean>;
  answer: AnswerPort;
  /** Path of the adapter serving as stable now (null = base model). */
  currentAdapterPath(): Promise<string | null>;
  /**
   * Used when no adapter serves yet: writes a twin of the candidate with every B tensor zeroed (the base model's
   * outputs at the adapter's per-token cost) to `out` and returns its path. The gate then compares the candidate
   * with the base through it, so the latency rule measures what tonight's weights change, not the fixed cost of
   * serving any adapter. Without this port the gate compares with the bare base model.
   */
  baselineAdapter?(options: { candidatePath: string; out: string }): Promise<string>;
  /** Publishes into the registry (content-hashed, idempotent) and returns the version. */
  publish(options: { adapterDir: string; gate: GateReport }): Promise<{ version: string }>;
  /**
   * Runs the canary to its end: promoted to current, or rolled back; `windows`: each analysis window's verdict (the
   * morning report shows them), with every metric's verdict (success, latency, satisfaction, cost).
   */
  canary(options: { version: string }): Promise<{ outcome: "promoted" | "rolled-back"; reason: string; windows?: Array<{ step: number; weight: number; at: string; verdict: string; reason: string; metrics?: Array<{ metric: string; verdict: "pass" | "fail" | "none"; reason: string; canary?: number; stable?: number }> }> }>;
  evalSets: { holdout: EvalCase[]; safety: EvalCase[] };
  /** Prompts whose candidate outputs are stored in eval.json so the server can prove it serves the adapter. */
  probePrompts: string[];
}
