import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { HumanMessage, SystemMessage } from "@langchain/core/messages";
import { z } from "zod";
import { CouncilError } from "../core/index.js";
import { FallbackBreaker, invokeStructured, runWithMode } from "./structured-output.js";
import { cosine } from "./text.js";
import { GENERAL_ROUTE, type Topic } from "./topics.js";
import type { AgentMode, AgentOutcome, CouncilChatModel } from "./types.js";

export interface RouteDecision {
  route: string;
  /** Similarity of the question to the chosen topic (heuristic), or 1 when the model chose. */
  confidence: number;
}

export interface RouterOptions {
  model: CouncilChatModel;
  embeddings: EmbeddingsInterface;
  topics: readonly Topic[];
  /** @default "auto" */
  mode?: AgentMode;
  /** System prompt override; `{topics}` is replaced by the topic list. */
  systemPrompt?: string;
  /** Below this score (best term cosine + half the second best) the heuristic picks `general`. @default 0.25 */
  minSimilarity?: number;
}

export const ROUTER_SYSTEM_PROMPT =
  "You route IT-helpdesk questions to one topic.\nTopics:\n{topics}\nReply with JSON only, like {\"route\": \"network\"}.";

/** Picks the route of a question: the model's choice when valid, else the nearest topic by embedding. */
export class Router {
  readonly topics: readonly Topic[];
  readonly #model: CouncilChatModel;
  readonly #embeddings: EmbeddingsInterface;
  readonly #mode: AgentMode;
  readonly #systemPrompt: string;
  readonly #minSimilarity: number;
  /** Per topic, the vectors of its terms (name and description words or titles). */
  readonly #vectors: number[][][];
  readonly #schema: z.ZodType<{ route: string }>;
  readonly #breaker = new FallbackBreaker();

  private constructor(options: RouterOptions, vectors: number[][][]) {
    this.topics = options.topics;
    this.#model = options.model;
    this.#embeddings = options.embeddings;
    this.#mode = options.mode ?? "auto";
    this.#systemPrompt = options.systemPrompt ?? ROUTER_SYSTEM_PROMPT;
    this.#minSimilarity = options.minSimilarity ?? 0.25;
    this.#vectors = vectors;
    const names = [...new Set([...options.topics.map((topic) => topic.name), GENERAL_ROUTE])] as [string, ...string[]];
    this.#schema = z.object({ route: z.enum(names) }).strip();
  }

  /**
   * Embeds every topic's terms once. Terms are embedded one by one (not the whole description as one
   * bag): a question matching one term strongly beats one matching many terms weakly.
   */
  static async create(options: RouterOptions): Promise<Router> {
    if (options.topics.length === 0) throw new CouncilError("CONFIG_INVALID", "The router needs at least one topic.");
    const terms = options.topics.map((topic) => topicTerms(topic));
    const flat = await options.embeddings.embedDocuments(terms.flat());
    let offset = 0;
    const vectors = terms.map((list) => {
      const slice = flat.slice(offset, offset + list.length);
      offset += list.length;
      return slice;
    });
    return new Router(options, vectors);
  }

  /** Every route this router can return (bounded: metric labels). */
  routes(): string[] {
    return [...new Set([...this.topics.map((topic) => topic.name), GENERAL_ROUTE])];
  }

  async route({ question, signal }: { question: string; signal?: AbortSignal }): Promise<AgentOutcome<RouteDecision>> {
    return runWithMode({
      agent: "router",
      mode: this.#mode,
      breaker: this.#breaker,
      llm: async () => {
        const topics = this.topics.map((topic) => `- ${topic.name}: ${topic.description.slice(0, 80)}`).join("\n");
        const result = await invokeStructured({
          model: this.#model,
          agent: "router",
          schema: this.#schema,
          signal,
          maxTokens: 24,
          messages: [new SystemMessage(this.#systemPrompt.replace("{topics}", topics)), new HumanMessage(question)],
        });
        return result.success ? { success: true, value: { route: result.value.route, confidence: 1 } } : result;
      },
      heuristic: () => this.nearest(question),
    });
  }

  /** The nearest topic by embedding, or `general` when none is close enough. */
  async nearest(question: string): Promise<RouteDecision> {
    const query = await this.#embeddings.embedQuery(question);
    let best = { route: GENERAL_ROUTE, confidence: 0 };
    this.#vectors.forEach((vectors, index) => {
      // The two best-matching terms: one strong match or two decent ones.
      const [first = 0, second = 0] = vectors.map((vector) => cosine(query, vector)).sort((a, b) => b - a);
      const similarity = first + 0.5 * Math.max(0, second);
      if (similarity > best.confidence) best = { route: this.topics[index]!.name, confidence: similarity };
    });
    return best.confidence >= this.#minSimilarity ? best : { route: GENERAL_ROUTE, confidence: best.confidence };
  }
}

/** A topic's terms: its name and each description term (comma-separated phrases, else words). */
function topicTerms(topic: Topic): string[] {
  const parts = topic.description.includes(",") ? topic.description.split(",") : topic.description.split(/\s+/);
  return [...new Set([topic.name.replace(/-/g, " "), ...parts.map((part) => part.trim()).filter((part) => part.length > 1)])];
}
