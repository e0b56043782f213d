import { createHash } from "node:crypto";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { z } from "zod";
import type { KnowledgeBase, PassageHit } from "../memory/index.js";
import { groundedAnswers } from "./grounded-answer.js";
import { invokeStructured } from "./structured-output.js";
import type { AgentMode, AgentStep, CouncilChatModel } from "./types.js";

/** A proposed better answer to a failed turn. */
export interface Candidate {
  /** Deterministic: the same source and answer always get the same id (nightly nodes are idempotent). */
  id: string;
  answer: string;
  source: "llm" | "kb-grounded" | "correction";
  /** Knowledge-base passages the candidate rests on. */
  passageIds: string[];
}

export interface RewriteInput {
  question: string;
  failedAnswer: string;
  reasons?: readonly string[];
  /** The user's correction, when they gave one: it becomes a candidate as is. */
  correction?: string | null;
  /** Retrieved passages; searched in the knowledge base when absent. */
  passages?: readonly PassageHit[];
  adapter?: string | null;
  signal?: AbortSignal;
}

export interface RewriteResult {
  candidates: Candidate[];
  passages: readonly PassageHit[];
  steps: AgentStep[];
}

export interface Agent0Options {
  model: CouncilChatModel;
  knowledgeBase: KnowledgeBase;
  /** @default "auto" */
  mode?: AgentMode;
  systemPrompt?: string;
  /** Passages retrieved per failure. @default 3 */
  k?: number;
  /** @default 160 */
  maxTokens?: number;
  /** Knowledge-base candidates per failure: the best distinct units of the retrieved passages. @default 3 */
  groundedCandidates?: number;
  now?: () => number;
}

export const AGENT0_SYSTEM_PROMPT =
  'You fix IT-helpdesk answers that failed review. Using the context, write a short correct answer with the exact command. Reply with JSON only: {"answer": "..."}.';

const rewriteSchema = z.object({ answer: z.string().trim().min(1).max(2000) }).strip();

/**
 * Agent-0 writes candidate rewrites of a failed answer: the model's rewrite with knowledge-base context
 * (mode llm/auto; in auto an unusable reply falls back, noted in the steps), the answers grounded in the
 * best units of the retrieved passages (always, when a passage exists: the unit whose description answers
 * this question first, then the next distinct ones), and the user's correction (when given).
 */
export class Agent0 {
  readonly #model: CouncilChatModel;
  readonly #knowledgeBase: KnowledgeBase;
  readonly #mode: AgentMode;
  readonly #systemPrompt: string;
  readonly #k: number;
  readonly #maxTokens: number;
  readonly #groundedCandidates: number;
  readonly #now: () => number;

  constructor({ model, knowledgeBase, mode = "auto", systemPrompt = AGENT0_SYSTEM_PROMPT, k = 3, maxTokens = 160, groundedCandidates = 3, now = performance.now.bind(performance) }: Agent0Options) {
    this.#model = model;
    this.#knowledgeBase = knowledgeBase;
    this.#mode = mode;
    this.#systemPrompt = systemPrompt;
    this.#k = k;
    this.#maxTokens = maxTokens;
    this.#groundedCandidates = groundedCandidates;
    this.#now = now;
  }

  async rewrite({ question, failedAnswer, reasons = [], correction, passages, adapter = null, signal }: RewriteInput): Promise<RewriteResult> {
    const hits = passages ?? (await this.#knowledgeBase.search(question, { k: this.#k }));
    const candidates: Candidate[] = [];
    const steps: AgentStep[] = [];
    const add = (source: Candidate["source"], answer: string, passageIds: string[]) => {
      const text = answer.trim();
      if (text.length === 0 || candidates.some((candidate) => candidate.answer === text)) return;
      candidates.push({ id: candidateId(question, source, text), answer: text, source, passageIds });
    };

    if (this.#mode !== "heuristic") {
      const started = this.#now();
      const context = hits.slice(0, this.#k).map(({ passage }) => `- ${passage.title}: ${passage.text.slice(0, 400)}`).join("\n");
      const result = await invokeStructured({
        model: this.#model,
        agent: "agent0",
        schema: rewriteSchema,
        adapter,
        signal,
        maxTokens: this.#maxTokens,
        messages: [
          new SystemMessage(this.#systemPrompt),
          new HumanMessage(
            `Context:\n${context || "(none)"}\n\nQuestion: ${question}\nRejected answer: ${failedAnswer}\n` +
              (reasons.length > 0 ? `Why it was rejected: ${reasons.join("; ")}\n` : ""),
          ),
        ],
      });
      if (result.success) {
        add("llm", result.value.answer, hits.map(({ passage }) => passage.id));
        steps.push({ agent: "agent0", method: "llm", ms: this.#now() - started });
      } else if (this.#mode === "llm") {
        throw result.error;
      } else {
        steps.push({ agent: "agent0", method: "heuristic", fallback: result.error.message, ms: this.#now() - started });
      }
    }

    const started = this.#now();
    for (const grounded of groundedAnswers(question, hits, { limit: this.#groundedCandidates })) add("kb-grounded", grounded.answer, [grounded.passageId]);
    if (this.#mode === "heuristic") steps.push({ agent: "agent0", method: "heuristic", ms: this.#now() - started });
    if (correction) add("correction", correction, []);
    return { candidates, passages: hits, steps };
  }
}

function candidateId(question: string, source: string, answer: string): string {
  return createHash("sha256").update(`${source}\u0000${question}\u0000${answer}`).digest("hex").slice(0, 16);
}
