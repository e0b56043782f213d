import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { z } from "zod";
import { FAILURE_CATEGORIES, type FailureCategory, type MemoryHit, type PassageHit } from "../memory/index.js";
import { commandGroundingCheck } from "./command-grounding.js";
import { hardChecks } from "./critic-checks.js";
import type { DocumentFrequency } from "./distinctive-words.js";
import { FallbackBreaker, invokeStructured, runWithMode } from "./structured-output.js";
import { contentWords, cosine, overlap } from "./text.js";
import type { AgentMode, AgentOutcome, CouncilChatModel } from "./types.js";

export interface Critique {
  /** In [0, 1]; the turn succeeds when it reaches the threshold. */
  score: number;
  /** Why the answer falls short (null when it passes). */
  category: FailureCategory | null;
  reasons: string[];
}

export interface CritiqueInput {
  question: string;
  answer: string;
  passages: readonly PassageHit[];
  /** Similar past turns from memory: an answer repeating one users rejected is penalised. */
  recalled?: readonly MemoryHit[];
  truncated?: boolean;
  /** Generation was stopped because the answer kept repeating itself. */
  runaway?: boolean;
  /** How many knowledge-base passages hold a word: a clear answer of the notes must cover the question's distinctive word. */
  documentFrequency?: DocumentFrequency;
  signal?: AbortSignal;
}

/** Weights and scales of the heuristic critic. */
export interface CriticHeuristicWeights {
  /**
   * score = grounded × (relevanceFloor + (1 − relevanceFloor) × relevance), each part scaled to [0, 1]:
   * an ungrounded answer fails however on-topic it sounds, an off-topic one loses up to 1 − floor.
   * @default 0.4
   */
  relevanceFloor: number;
  /** Groundedness (share of answer words found in the retrieved passages) at or above this counts fully. @default 0.75 */
  groundedFull: number;
  /** Relevance (cosine of the answer with the question or a passage) at or above this counts fully. @default 0.3 */
  relevanceFull: number;
}

export const DEFAULT_CRITIC_WEIGHTS: CriticHeuristicWeights = { relevanceFloor: 0.4, groundedFull: 0.75, relevanceFull: 0.3 };

export interface CriticOptions {
  model: CouncilChatModel;
  embeddings: EmbeddingsInterface;
  /** @default "auto" */
  mode?: AgentMode;
  /** Score a turn needs to pass. @default 0.5 */
  threshold?: number;
  systemPrompt?: string;
  weights?: Partial<CriticHeuristicWeights>;
  /**
   * Fail an answer whose command the retrieved notes do not teach (unknown tool or option, a dropped subcommand or
   * argument), in every mode, when the notes quote commands. @default true
   */
  groundCommands?: boolean;
}

export const CRITIC_SYSTEM_PROMPT =
  `You review an IT-helpdesk answer against the question and the reference context. Reply with JSON only: ` +
  `{"score": <0..1>, "category": <null or one of ${FAILURE_CATEGORIES.filter((c) => c !== "user-rejected" && c !== "runaway").join(", ")}>, "reasons": ["..."]}.`;

const critiqueSchema = z
  .object({
    score: z.number().min(0).max(1),
    category: z.enum(FAILURE_CATEGORIES).nullable(),
    reasons: z.array(z.string().max(300)).max(5),
  })
  .strip();

/** Similarity above which a recalled question counts as the same question. */
const SAME_QUESTION = 0.9;

/**
 * Scores an answer in [0, 1] with reasons and a failure category. The model's review when valid
 * (mode llm/auto), else a deterministic review: groundedness in the retrieved knowledge, relevance to
 * the question, and format/safety checks. The format/safety checks cap the score in every mode.
 */
export class Critic {
  readonly threshold: number;
  readonly #model: CouncilChatModel;
  readonly #embeddings: EmbeddingsInterface;
  readonly #mode: AgentMode;
  readonly #systemPrompt: string;
  readonly #weights: CriticHeuristicWeights;
  readonly #breaker = new FallbackBreaker();
  readonly #groundCommands: boolean;

  constructor({ model, embeddings, mode = "auto", threshold = 0.5, systemPrompt = CRITIC_SYSTEM_PROMPT, weights, groundCommands = true }: CriticOptions) {
    this.#groundCommands = groundCommands;
    this.#model = model;
    this.#embeddings = embeddings;
    this.#mode = mode;
    this.threshold = threshold;
    this.#systemPrompt = systemPrompt;
    this.#weights = { ...DEFAULT_CRITIC_WEIGHTS, ...weights };
  }

  async critique(input: CritiqueInput): Promise<AgentOutcome<Critique>> {
    const checks = hardChecks({ answer: input.answer, truncated: input.truncated, runaway: input.runaway });
    const grounding = this.#groundCommands ? commandGroundingCheck(input) : undefined;
    if (grounding !== undefined) checks.push(grounding);
    if (checks.some((check) => check.cap === 0)) {
      // Nothing a reviewer says can rescue an empty or dangerous answer: skip the model.
      const outcome = await runWithMode({ agent: "critic", mode: "heuristic", llm: never, heuristic: () => this.heuristic(input) });
      return { ...outcome, value: applyChecks(outcome.value, checks, this.threshold) };
    }
    const outcome = await runWithMode({
      agent: "critic",
      mode: this.#mode,
      breaker: this.#breaker,
      llm: () => this.#llm(input),
      heuristic: () => this.heuristic(input),
    });
    return { ...outcome, value: applyChecks(outcome.value, checks, this.threshold) };
  }

  async #llm({ question, answer, passages, signal }: CritiqueInput) {
    const context = passages.slice(0, 3).map(({ passage }) => `- ${passage.title}: ${passage.text.slice(0, 300)}`).join("\n");
    return invokeStructured({
      model: this.#model,
      agent: "critic",
      schema: critiqueSchema,
      signal,
      maxTokens: 96,
      messages: [new SystemMessage(this.#systemPrompt), new HumanMessage(`Context:\n${context || "(none)"}\n\nQuestion: ${question}\n\nAnswer: ${answer}`)],
    });
  }

  /** The deterministic review (no format checks: {@link critique} applies those in every mode). */
  async heuristic({ question, answer, passages, recalled = [] }: CritiqueInput): Promise<Critique> {
    const w = this.#weights;
    const answerWords = contentWords(answer);
    const reference = new Set<string>();
    for (const { passage } of passages) for (const word of contentWords(`${passage.title} ${passage.text}`)) reference.add(word);
    const grounded = overlap(answerWords, reference);
    const [questionVector, answerVector, ...passageVectors] = await this.#embeddings.embedDocuments([
      question,
      answer,
      ...passages.slice(0, 3).map(({ passage }) => `${passage.title} ${passage.text}`),
    ]);
    const relevance = Math.max(cosine(questionVector!, answerVector!), ...passageVectors.map((vector) => cosine(vector, answerVector!)));
    const groundedPart = Math.min(1, grounded / w.groundedFull);
    const relevancePart = Math.min(1, relevance / w.relevanceFull);
    let score = groundedPart * (w.relevanceFloor + (1 - w.relevanceFloor) * relevancePart);
    const reasons = [
      passages.length === 0
        ? "no knowledge-base passage was retrieved to ground the answer"
        : `${Math.round(grounded * 100)}% of the answer's words appear in the retrieved knowledge`,
      `relevance to the question ${relevance.toFixed(2)}`,
    ];
    let category: FailureCategory | null = null;
    if (relevancePart < 0.4) category = "off-topic";
    else if (groundedPart < 0.6) category = "ungrounded";
    const rejected = recalled.find((hit) => hit.score >= SAME_QUESTION && hit.record.feedback?.rating === -1 && sameAnswer(hit.record.answer, answer));
    if (rejected) {
      score = Math.min(score, 0.2);
      category = "user-rejected";
      reasons.push("repeats an answer a user rejected for the same question");
    }
    return { score: round(score), category, reasons };
  }
}

function applyChecks(critique: Critique, checks: ReturnType<typeof hardChecks>, threshold: number): Critique {
  let { score, category } = critique;
  const reasons = [...critique.reasons];
  for (const check of checks) {
    // A runaway answer is named as such whatever else is wrong with it (it is what to fix).
    if (check.cap < score || check.cap === 0 || check.category === "runaway") {
      score = Math.min(score, check.cap);
      category = check.category;
    }
    reasons.push(check.reason);
  }
  if (score >= threshold) category = null;
  else category ??= "incomplete";
  return { score: round(score), category, reasons };
}

function sameAnswer(a: string, b: string): boolean {
  const x = contentWords(a);
  const y = contentWords(b);
  return x.size > 0 && overlap(x, y) >= 0.9 && overlap(y, x) >= 0.9;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}

async function never(): Promise<never> {
  throw new Error("unreachable: heuristic mode never calls the model");
}
