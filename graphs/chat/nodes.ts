import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { groundedAnswer, GENERAL_ROUTE, type Answerer, type Critic, type Router } from "../../agents/index.js";
import type { Logger } from "../../core/index.js";
import type { KnowledgeBase, MemoryStore, TurnRecord } from "../../memory/types.js";
import type { GraphSpec, NodeSlot } from "./graph-spec.js";
import type { ChatStateUpdate, ChatStateValue } from "./state.js";

/** Per-invoke callbacks, passed in `config.configurable`. */
export interface ChatTurnCallbacks {
  onToken?: (text: string) => void;
  /** Called before a revision; revision tokens stream (through onToken) only when this is set. */
  onRevise?: (info: { attempt: number; reasons: string[] }) => void;
}

/** What the nodes run on. */
export interface ChatNodeDeps {
  router: Router;
  answerer: Answerer;
  critic: Critic;
  memory: MemoryStore;
  knowledgeBase: KnowledgeBase;
  spec: GraphSpec;
  /** Name of the base model, recorded with every turn. */
  modelName: string;
  threshold: number;
  logger: Logger;
  /** Unix ms. */
  now: () => number;
}

export type ChatNode = (state: ChatStateValue, config: LangGraphRunnableConfig) => Promise<ChatStateUpdate>;
type NodeFactory = (deps: ChatNodeDeps) => ChatNode;

export const DEFAULT_REVISE_NOTE =
  'A reviewer rejected your previous answer ("{answer}") because: {reasons}. Write a better answer, based only on the context.';

const callbacks = (config: LangGraphRunnableConfig): ChatTurnCallbacks => (config.configurable ?? {}) as ChatTurnCallbacks;

const llmAnswer: NodeFactory = ({ answerer, now }) => async (state, config) => {
  const { onToken } = callbacks(config);
  const result = await answerer.answer({
    question: state.question,
    passages: state.passages,
    history: state.history,
    adapter: state.adapter?.slot ?? null,
    signal: config.signal,
    onToken,
  });
  // Time from turn start to the first token: now, minus the part of generation after the first token.
  const firstTokenMs = result.firstTokenMs === undefined ? undefined : Math.max(0, now() - state.startedAt - (result.generationMs - result.firstTokenMs));
  return { answer: result.answer, truncated: result.truncated, tokens: result.tokens, generationMs: result.generationMs, firstTokenMs, steps: [{ agent: "answerer", method: "llm", ms: result.generationMs }] };
};

const groundedNode = (agent: "answerer" | "revise"): NodeFactory => ({ now }) => async (state, config) => {
  const started = now();
  const grounded = groundedAnswer(state.question, state.passages);
  const answer = grounded?.answer ?? (agent === "revise" ? state.answer : "");
  const { onToken, onRevise } = callbacks(config);
  if (agent === "revise") onRevise?.({ attempt: state.revisions + 1, reasons: state.critique?.reasons ?? [] });
  if (answer.length > 0 && (agent === "answerer" || onRevise !== undefined)) onToken?.(answer);
  const update: ChatStateUpdate = { answer, truncated: false, steps: [{ agent, method: "heuristic", ms: now() - started }] };
  if (agent === "answerer") update.firstTokenMs = now() - state.startedAt;
  if (agent === "revise") Object.assign(update, revisionBookkeeping(state));
  return update;
};

const llmRetry: NodeFactory = ({ answerer, spec }) => async (state, config) => {
  const { onToken, onRevise } = callbacks(config);
  const reasons = state.critique?.reasons ?? [];
  onRevise?.({ attempt: state.revisions + 1, reasons });
  const note = (spec.prompts.revise ?? DEFAULT_REVISE_NOTE).replace("{answer}", state.answer.slice(0, 300)).replace("{reasons}", reasons.join("; ") || "unspecified");
  const result = await answerer.answer({
    question: state.question,
    passages: state.passages,
    history: state.history,
    note,
    adapter: state.adapter?.slot ?? null,
    signal: config.signal,
    // Revised text streams only to callers that know to replace what they showed.
    onToken: onRevise === undefined ? undefined : onToken,
  });
  return {
    answer: result.answer,
    truncated: result.truncated,
    tokens: result.tokens,
    generationMs: result.generationMs,
    steps: [{ agent: "revise", method: "llm", ms: result.generationMs }],
    ...revisionBookkeeping(state),
  };
};

function revisionBookkeeping(state: ChatStateValue): ChatStateUpdate {
  const critique = state.critique;
  return {
    revisions: state.revisions + 1,
    attempts: critique ? [{ answer: state.answer, score: critique.score, category: critique.category, reasons: critique.reasons }] : [],
  };
}

/**
 * The node registry: slot → implementation name → factory. A graph spec picks one name per slot
 * (see NODE_IMPLEMENTATIONS); adding an implementation means adding it here and to the spec's enum.
 */
export const NODE_REGISTRY: { [S in NodeSlot]: Record<GraphSpec["nodes"][S], NodeFactory> } = {
  router: {
    router: ({ router }) => async (state, config) => {
      const outcome = await router.route({ question: state.question, signal: config.signal });
      return { route: outcome.value.route, steps: [outcome.step] };
    },
    general: () => async () => ({ route: GENERAL_ROUTE }),
  },
  recall: {
    "kb+memory": ({ knowledgeBase, memory, spec }) => async (state) => {
      const [passages, recalled] = await Promise.all([
        spec.recall.passages > 0 ? knowledgeBase.search(state.question, { k: spec.recall.passages }) : [],
        spec.recall.memories > 0 ? memory.search(state.question, { k: spec.recall.memories }) : [],
      ]);
      return { passages, recalled };
    },
    kb: ({ knowledgeBase, spec }) => async (state) => ({
      passages: spec.recall.passages > 0 ? await knowledgeBase.search(state.question, { k: spec.recall.passages }) : [],
      recalled: [],
    }),
    none: () => async () => ({ passages: [], recalled: [] }),
  },
  answerer: {
    llm: llmAnswer,
    "kb-grounded": groundedNode("answerer"),
  },
  critic: {
    critic: ({ critic }) => async (state, config) => {
      const outcome = await critic.critique({
        question: state.question,
        answer: state.answer,
        passages: state.passages,
        recalled: state.recalled,
        truncated: state.truncated,
        signal: config.signal,
      });
      return { critique: outcome.value, steps: [outcome.step] };
    },
  },
  revise: {
    "llm-retry": llmRetry,
    "kb-grounded": groundedNode("revise"),
    // Never reached: the graph has no revise edge when the spec says none.
    none: () => async () => ({}),
  },
  record: {
    memory: ({ memory, modelName, threshold, now, logger }) => async (state) => {
      const critique = state.critique!;
      const at = now();
      const record: TurnRecord = {
        traceId: state.traceId,
        sessionId: state.sessionId,
        userId: state.userId,
        question: state.question,
        answer: state.answer,
        route: state.route,
        model: modelName,
        adapter: state.adapter?.version ?? null,
        score: critique.score,
        category: critique.category,
        reasons: critique.reasons,
        success: critique.score >= threshold,
        feedback: null,
        latencyMs: Math.max(0, at - state.startedAt),
        tokens: state.tokens,
        createdAt: state.startedAt,
        updatedAt: at,
      };
      await memory.record(record);
      logger.debug({ traceId: state.traceId, route: record.route, score: record.score, success: record.success, steps: state.steps }, "turn recorded");
      return { recorded: record };
    },
  },
};
