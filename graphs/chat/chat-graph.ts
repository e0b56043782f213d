import { END, START, StateGraph, type LangGraphRunnableConfig } from "@langchain/langgraph";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { Answerer, Critic, Router, type AgentMode, type CouncilChatModel, type Topic } from "../../agents/index.js";
import type { Logger } from "../../core/index.js";
import type { KnowledgeBase, MemoryStore, OptionManual, VerifiedMemory } from "../../memory/index.js";
import { defaultGraphSpec, type GraphSpec } from "./graph-spec.js";
import { NODE_REGISTRY, type ChatNode, type ChatNodeDeps, type ChatTurnCallbacks } from "./nodes.js";
import { ChatState, type ChatStateUpdate, type ChatStateValue, type ChatTurnInput } from "./state.js";

export interface ChatGraphOptions {
  router: Router;
  answerer: Answerer;
  critic: Critic;
  memory: MemoryStore;
  knowledgeBase: KnowledgeBase;
  /** Tool options the amend node reads (absent: answers are never amended). */
  manual?: OptionManual;
  /** Verified memory the recall node searches (absent: never consulted). */
  verified?: VerifiedMemory;
  /** Verified-entry similarity thresholds (config.agents.verified*; the spec's verified.*Threshold wins). @default reuse 0.9, hint 0.6 */
  verifiedThresholds?: { reuse: number; hint: number };
  /** @default defaultGraphSpec() */
  spec?: GraphSpec;
  modelName: string;
  /** Score a turn needs to count as a success (spec.criticThreshold wins). */
  threshold: number;
  /** Bounded revisions after a failing critique (spec.maxRevisions wins). */
  maxRevisions: number;
  logger: Logger;
  /** Unix ms. @default Date.now */
  now?: () => number;
}

export interface CreateChatGraphOptions extends Omit<ChatGraphOptions, "router" | "answerer" | "critic"> {
  model: CouncilChatModel;
  embeddings: EmbeddingsInterface;
  topics: readonly Topic[];
  /** Agent modes (config.agents.router / critic). */
  modes: { router: AgentMode; critic: AgentMode };
  /** Answer token limit (config.model.maxTokens). @default 160 */
  maxTokens?: number;
}

/**
 * Builds the state graph from a spec and node functions (uncompiled): route → recall → answer → amend → critique ⇄
 * revise (→ amend) → record; a spec's `none` leaves its node out.
 */
function buildGraph(spec: GraphSpec, nodes: Record<keyof GraphSpec["nodes"], ChatNode>, shouldRevise: (state: ChatStateValue) => boolean) {
  const amend = spec.nodes.amend !== "none";
  const revise = spec.nodes.revise !== "none";
  // Only the nodes the spec runs (LangGraph refuses a node nothing reaches); node names are checked by the spec's enums.
  const graph = new StateGraph(ChatState) as unknown as StateGraph<typeof ChatState.spec, ChatStateValue, ChatStateUpdate, string>;
  for (const slot of ["router", "recall", "answerer", "critic", "record"] as const) graph.addNode(slot, nodes[slot]);
  if (amend) graph.addNode("amend", nodes.amend);
  if (revise) graph.addNode("revise", nodes.revise);
  const afterDraft = amend ? "amend" : "critic";
  graph.addEdge(START, "router").addEdge("router", "recall").addEdge("recall", "answerer").addEdge("answerer", afterDraft).addEdge("record", END);
  if (amend) graph.addEdge("amend", "critic");
  if (!revise) return graph.addEdge("critic", "record");
  return graph.addConditionalEdges("critic", (state) => (shouldRevise(state) ? "revise" : "record"), { revise: "revise", record: "record" }).addEdge("revise", afterDraft);
}

/** A compiled chat graph for one council. */
export class ChatGraph {
  readonly spec: GraphSpec;
  readonly threshold: number;
  readonly maxRevisions: number;
  readonly #compiled;

  constructor({ spec = defaultGraphSpec(), now = Date.now, threshold, maxRevisions, verifiedThresholds = { reuse: 0.9, hint: 0.6 }, ...deps }: ChatGraphOptions) {
    this.spec = spec;
    this.threshold = spec.criticThreshold ?? threshold;
    this.maxRevisions = spec.maxRevisions ?? maxRevisions;
    const thresholds = { reuse: spec.verified.reuseThreshold ?? verifiedThresholds.reuse, hint: spec.verified.hintThreshold ?? verifiedThresholds.hint };
    const nodeDeps: ChatNodeDeps = { ...deps, spec, threshold: this.threshold, now, verifiedThresholds: thresholds };
    const nodes = {
      router: NODE_REGISTRY.router[spec.nodes.router](nodeDeps),
      recall: NODE_REGISTRY.recall[spec.nodes.recall](nodeDeps),
      answerer: NODE_REGISTRY.answerer[spec.nodes.answerer](nodeDeps),
      amend: NODE_REGISTRY.amend[spec.nodes.amend](nodeDeps),
      critic: NODE_REGISTRY.critic[spec.nodes.critic](nodeDeps),
      revise: NODE_REGISTRY.revise[spec.nodes.revise](nodeDeps),
      record: NODE_REGISTRY.record[spec.nodes.record](nodeDeps),
    };
    const shouldRevise = (state: ChatStateValue) => state.critique !== undefined && state.critique.score < this.threshold && state.revisions < this.maxRevisions;
    this.#compiled = buildGraph(spec, nodes, shouldRevise).compile({ name: "council-chat" });
  }

  /** Builds the agents (with the spec's prompt overrides and the configured modes) and the graph. */
  static async create({ model, embeddings, topics, modes, maxTokens, spec = defaultGraphSpec(), ...rest }: CreateChatGraphOptions): Promise<ChatGraph> {
    const router = await Router.create({ model, embeddings, topics, mode: modes.router, systemPrompt: spec.prompts.router });
    const answerer = new Answerer({ model, maxTokens, system: spec.prompts.answerer });
    const critic = new Critic({ model, embeddings, mode: modes.critic, threshold: spec.criticThreshold ?? rest.threshold, systemPrompt: spec.prompts.critic, groundCommands: spec.groundCommands });
    return new ChatGraph({ ...rest, spec, router, answerer, critic });
  }

  /** Runs one turn to the end and returns the final state. */
  async run(input: ChatTurnInput, { signal, ...callbacks }: ChatTurnCallbacks & { signal?: AbortSignal } = {}): Promise<ChatStateValue> {
    const config: LangGraphRunnableConfig = { configurable: callbacks, signal, recursionLimit: 9 + 3 * this.maxRevisions };
    return (await this.#compiled.invoke(input, config)) as ChatStateValue;
  }

  /** The compiled LangGraph graph (for streaming modes, inspection). */
  get compiled() {
    return this.#compiled;
  }

  async drawMermaid(): Promise<string> {
    return (await this.#compiled.getGraphAsync()).drawMermaid();
  }
}

/**
 * Mermaid of the graph a spec describes, without models or stores (for `council graph draw`).
 * The nodes of this graph only describe structure: running it is a bug and throws.
 */
export async function drawChatGraph(spec: GraphSpec = defaultGraphSpec()): Promise<string> {
  const structureOnly: ChatNode = async () => {
    throw new Error("drawChatGraph builds a graph for drawing only; use ChatGraph to run turns");
  };
  const nodes = { router: structureOnly, recall: structureOnly, answerer: structureOnly, amend: structureOnly, critic: structureOnly, revise: structureOnly, record: structureOnly };
  return (await buildGraph(spec, nodes, () => false).compile({ name: "council-chat" }).getGraphAsync()).drawMermaid();
}
