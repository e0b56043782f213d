import type { LangGraphRunnableConfig } from "@langchain/langgraph";
import { amendFromManual, fallbackAnswer, groundedAnswer, GENERAL_ROUTE, type Answerer, type Critic, type DocumentFrequency, type HistoryTurn, type Router } from "../../agents/index.js";
import type { Logger } from "../../core/index.js";
import type { KnowledgeBase, MemoryStore, OptionManual, TurnRecord, VerifiedHit, VerifiedMemory } from "../../memory/index.js";
import type { GraphSpec, NodeSlot } from "./graph-spec.js";
import type { AnswerSource, ChatStateUpdate, ChatStateValue } from "./state.js";

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
  /** Tool options from the local manual (absent: the amend node changes nothing). */
  manual?: OptionManual;
  /** Verified memory (absent: the turn never sees verified entries). */
  verified?: VerifiedMemory;
  /** Similarity at which a verified entry answers, and at which it is shown as a worked example. */
  verifiedThresholds: { reuse: number; hint: number };
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

/** The verified entry that answers this turn by itself, when the spec allows reuse and one is close enough. */
function reusable(state: ChatStateValue, { spec, verifiedThresholds }: ChatNodeDeps): VerifiedHit | undefined {
  const top = state.verified?.[0];
  return spec.verified.reuse && top !== undefined && top.score >= verifiedThresholds.reuse ? top : undefined;
}

/** Verified Q/A pairs shown to the answerer as worked examples (between the hint and reuse thresholds). */
function workedExamples(state: ChatStateValue, { spec, verifiedThresholds }: ChatNodeDeps): HistoryTurn[] {
  if (!spec.verified.hint) return [];
  return (state.verified ?? []).filter((hit) => hit.score >= verifiedThresholds.hint).map((hit) => ({ question: hit.entry.question, answer: hit.entry.answer }));
}

const llmAnswer: NodeFactory = (deps) => async (state, config) => {
  const { answerer, now } = deps;
  const { onToken } = callbacks(config);
  const fromMemory = reusable(state, deps);
  if (fromMemory !== undefined) {
    const started = now();
    onToken?.(fromMemory.entry.answer);
    return {
      answer: fromMemory.entry.answer,
      memoryEntry: fromMemory.entry.id,
      truncated: false,
      runaway: false,
      firstTokenMs: now() - state.startedAt,
      steps: [{ agent: "answerer", method: "memory", ms: now() - started }],
    };
  }
  const result = await answerer.answer({
    question: state.question,
    passages: state.passages,
    history: state.history,
    maxHistoryTurns: deps.spec.recall.history,
    examples: workedExamples(state, deps),
    adapter: state.adapter?.slot ?? null,
    signal: config.signal,
    onToken,
  });
  // Time from turn start to the first token: now, minus the part of generation after the first token.
  const firstTokenMs = result.firstTokenMs === undefined ? undefined : Math.max(0, now() - state.startedAt - (result.generationMs - result.firstTokenMs));
  return { answer: result.answer, memoryEntry: undefined, truncated: result.truncated, runaway: result.runaway, tokens: result.tokens, generationMs: result.generationMs, firstTokenMs, steps: [{ agent: "answerer", method: "llm", ms: result.generationMs }] };
};

/** How rare a word is in the knowledge base, for the fallback's and the critic's distinctive-word rule (nothing when it cannot tell). */
function wordRarity(knowledgeBase: KnowledgeBase): { documentFrequency?: DocumentFrequency } {
  return knowledgeBase.documentFrequency === undefined ? {} : { documentFrequency: (word) => knowledgeBase.documentFrequency!(word) };
}

const groundedNode = (agent: "answerer" | "revise"): NodeFactory => ({ now }) => async (state, config) => {
  const started = now();
  const grounded = groundedAnswer(state.question, state.passages);
  const answer = grounded?.answer ?? (agent === "revise" ? state.answer : "");
  const { onToken, onRevise } = callbacks(config);
  if (agent === "revise") onRevise?.({ attempt: state.revisions + 1, reasons: state.critique?.reasons ?? [] });
  if (answer.length > 0 && (agent === "answerer" || onRevise !== undefined)) onToken?.(answer);
  const update: ChatStateUpdate = { answer, memoryEntry: undefined, truncated: false, runaway: false, steps: [{ agent, method: "heuristic", ms: now() - started }] };
  if (agent === "answerer") update.firstTokenMs = now() - state.startedAt;
  if (agent === "revise") Object.assign(update, revisionBookkeeping(state));
  return update;
};

const llmRetry: NodeFactory = (deps) => async (state, config) => {
  const { answerer, spec } = deps;
  const { onToken, onRevise } = callbacks(config);
  const reasons = state.critique?.reasons ?? [];
  onRevise?.({ attempt: state.revisions + 1, reasons });
  const note = (spec.prompts.revise ?? DEFAULT_REVISE_NOTE).replace("{answer}", state.answer.slice(0, 300)).replace("{reasons}", reasons.join("; ") || "unspecified");
  const result = await answerer.answer({
    question: state.question,
    passages: state.passages,
    history: state.history,
    maxHistoryTurns: deps.spec.recall.history,
    note,
    examples: workedExamples(state, deps),
    adapter: state.adapter?.slot ?? null,
    signal: config.signal,
    // Revised text streams only to callers that know to replace what they showed.
    onToken: onRevise === undefined ? undefined : onToken,
  });
  return {
    answer: result.answer,
    memoryEntry: undefined,
    truncated: result.truncated,
    runaway: result.runaway,
    tokens: result.tokens,
    generationMs: result.generationMs,
    steps: [{ agent: "revise", method: "llm", ms: result.generationMs }],
    ...revisionBookkeeping(state),
  };
};

/**
 * Adds the option the question asks for from the tool's manual page (see amendFromManual). The manual's line joins
 * the turn's passages, so the critic checks the option as grounded and the record shows where it came from. A
 * verified memory answer is never touched.
 */
const manualAmend: NodeFactory = ({ manual, now, logger }) => async (state) => {
  if (manual === undefined || state.memoryEntry !== undefined || state.answer.length === 0) return {};
  const started = now();
  const amendment = await amendFromManual({ question: state.question, answer: state.answer, passages: state.passages }, manual);
  const steps = [{ agent: "amend", method: "heuristic" as const, ms: now() - started }];
  if (amendment === undefined) return { steps };
  logger.debug({ traceId: state.traceId, page: amendment.page, flag: amendment.flag, matched: amendment.matched, dropped: amendment.dropped }, "answer amended from the manual");
  return { answer: amendment.answer, passages: [...state.passages.filter(({ passage }) => passage.id !== amendment.passage.passage.id), amendment.passage], steps };
};

/** Verified entries this turn may see (active ones, and canary ones of its adapter version). */
async function searchVerified(state: ChatStateValue, { verified, spec }: ChatNodeDeps): Promise<VerifiedHit[]> {
  if (verified === undefined || (!spec.verified.reuse && !spec.verified.hint)) return [];
  return verified.search(state.question, { k: spec.verified.k, visibleTo: { adapterVersion: state.adapter?.version ?? null } });
}

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
    "kb+memory": (deps) => async (state) => {
      const { knowledgeBase, memory, spec } = deps;
      const [passages, recalled, verified] = await Promise.all([
        spec.recall.passages > 0 ? knowledgeBase.search(state.question, { k: spec.recall.passages }) : [],
        spec.recall.memories > 0 ? memory.search(state.question, { k: spec.recall.memories }) : [],
        searchVerified(state, deps),
      ]);
      return { passages, recalled, verified };
    },
    kb: (deps) => async (state) => ({
      passages: deps.spec.recall.passages > 0 ? await deps.knowledgeBase.search(state.question, { k: deps.spec.recall.passages }) : [],
      recalled: [],
      verified: await searchVerified(state, deps),
    }),
    none: () => async () => ({ passages: [], recalled: [], verified: [] }),
  },
  answerer: {
    llm: llmAnswer,
    "kb-grounded": groundedNode("answerer"),
  },
  amend: {
    manual: manualAmend,
    // Never reached: the graph has no amend node when the spec says none.
    none: () => async () => ({}),
  },
  critic: {
    critic: ({ critic, knowledgeBase }) => async (state, config) => {
      const outcome = await critic.critique({
        question: state.question,
        answer: state.answer,
        passages: state.passages,
        recalled: state.recalled,
        truncated: state.truncated,
        runaway: state.runaway,
        ...wordRarity(knowledgeBase),
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
    memory: ({ memory, verified, modelName, threshold, now, logger, spec, knowledgeBase }) => async (state) => {
      const critique = state.critique!;
      const at = now();
      const passed = critique.score >= threshold;
      const adapter = state.adapter?.version ?? null;
      // Never deliver an answer the council failed: the user gets an honest fallback; the draft is recorded as the failure.
      const fallback = !passed && spec.fallback === "kb" ? fallbackAnswer(state.question, state.passages, wordRarity(knowledgeBase)) : undefined;
      const source: AnswerSource =
        fallback !== undefined
          ? { kind: "fallback", adapter, ...(fallback.page === undefined ? {} : { page: fallback.page }) }
          : state.memoryEntry !== undefined
            ? { kind: "memory", adapter, entry: state.memoryEntry }
            : { kind: "model", adapter };
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
        success: passed,
        feedback: null,
        latencyMs: Math.max(0, at - state.startedAt),
        tokens: state.tokens,
        createdAt: state.startedAt,
        updatedAt: at,
      };
      await memory.record(record);
      if (source.kind === "memory") await verified?.markServed({ traceId: state.traceId, entryId: source.entry! });
      logger.debug({ traceId: state.traceId, route: record.route, score: record.score, success: record.success, source: source.kind, steps: state.steps }, "turn recorded");
      return { recorded: record, delivered: fallback?.answer ?? state.answer, source };
    },
  },
};
