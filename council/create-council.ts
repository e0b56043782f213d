import { randomUUID } from "node:crypto";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { z } from "zod";
import { DEFAULT_TOPICS, topicsFromDirectory, type CouncilChatModel, type Topic } from "../agents/index.js";
import { createMetrics, CouncilError, isCouncilError, Registry, silentLogger, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { ChatGraph, loadGraphSpec, type ChatStateValue, type GraphSpec, type TurnAdapter } from "../graphs/index.js";
import { ANONYMOUS_ACTOR, type KnowledgeBase, type MemoryStore, type OptionManual, type TurnRecord, type VerifiedMemory } from "../memory/index.js";
import type { AdapterHost } from "../models/index.js";
import { SessionHistory } from "./session-history.js";
import type { CouncilRuntime, TurnRequest, TurnResult } from "./types.js";

/**
 * The adapter release routed to a turn. `outsideScope`: the question is outside the adapter's scope, so the base
 * model answers it — the turn still counts for that release (metrics), as its scope is part of what it serves.
 */
export type SelectedAdapter = TurnAdapter & { outsideScope?: boolean };

/** Picks the adapter for a request (the canary router plugs in here, and the adapter's scope); null = base model. */
export type SelectAdapter = (key: { userId: string | null; sessionId: string; question: string }) => SelectedAdapter | null;

/** Something the council owns and releases on dispose. */
export interface Disposable {
  dispose(): Promise<void>;
}

export interface CreateCouncilOptions {
  config: CouncilConfig;
  chatModel: CouncilChatModel;
  embeddings: EmbeddingsInterface;
  memory: MemoryStore;
  knowledgeBase: KnowledgeBase;
  /** Verified memory: answers turns above the reuse threshold; a 👎 on an answer it served demotes the entry. */
  verified?: VerifiedMemory;
  /** Tool options the amend step reads (the local manual pages in production). @default none: answers are never amended */
  manual?: OptionManual;
  /** @default metrics on a fresh registry without default process metrics */
  metrics?: CouncilMetrics;
  /** @default silentLogger */
  logger?: Logger;
  /** Unix ms. @default Date.now */
  now?: () => number;
  /** Trace ids. @default crypto.randomUUID */
  generateId?: () => string;
  /** Process CPU time in seconds (user + system), read before and after each turn. @default process.cpuUsage */
  cpuSeconds?: () => number;
  /** @default the "stable" slot when the model has one loaded, else the base model */
  selectAdapter?: SelectAdapter;
  /** @default loadGraphSpec(config.agents.graphSpec) */
  spec?: GraphSpec;
  /** @default topic folders of config.kb.dir, else DEFAULT_TOPICS */
  topics?: readonly Topic[];
  /** Name of the base model recorded with turns. @default chatModel.getName() */
  modelName?: string;
  /** GET /health. @default () => true (the model is loaded when the council is built) */
  ready?: () => boolean;
  /** Released by dispose(), in order (the council owns them). @default [] */
  owned?: Disposable[];
}

/** The assembled council: the runtime the server calls, plus its graph and metrics. */
export interface Council extends CouncilRuntime {
  readonly graph: ChatGraph;
  readonly metrics: CouncilMetrics;
  /** Every route the router can return (bounded metric label values). */
  routes(): string[];
}

const MAX_QUESTION_CHARS = 4000;

const turnRequestSchema = z.object({
  id: z.string().min(1).max(200),
  sessionId: z.string().min(1).max(200),
  userId: z.string().min(1).max(200).optional(),
  text: z.string().trim().min(1, "the question is empty").max(MAX_QUESTION_CHARS, `the question is longer than ${MAX_QUESTION_CHARS} characters`),
});

const feedbackSchema = z.object({
  traceId: z.string().min(1).max(200),
  rating: z.union([z.literal(1), z.literal(-1)]),
  comment: z.string().max(4000).optional(),
  correction: z.string().max(4000).optional(),
  anonymous: z.boolean().optional(),
});

/** The default adapter choice: the "stable" slot when the model serves one, else the base model. */
export function stableSlotSelector(chatModel: unknown): SelectAdapter {
  const host = chatModel as Partial<AdapterHost>;
  return () => {
    if (typeof host.adapters !== "function") return null;
    const stable = host.adapters().find((slot) => slot.slot === "stable");
    return stable ? { slot: stable.slot, version: stable.version } : null;
  };
}

/**
 * Assembles a council from its parts: the chat graph (router → recall → answer → amend → critique ⇄ revise →
 * record) on the given model and stores, per-session history, and the chat metrics.
 */
export async function createCouncil({
  config,
  chatModel,
  embeddings,
  memory,
  knowledgeBase,
  verified,
  manual,
  metrics = createMetrics({ registry: new Registry(), defaultMetrics: false }),
  logger = silentLogger,
  now = Date.now,
  generateId = randomUUID,
  cpuSeconds = processCpuSeconds,
  selectAdapter = stableSlotSelector(chatModel),
  spec = loadGraphSpec(config.agents.graphSpec),
  topics,
  modelName = chatModel.getName(),
  ready = () => true,
  owned = [],
}: CreateCouncilOptions): Promise<Council> {
  const routeTopics = topics ?? (topicsFromDirectory(config.kb.dir).length > 0 ? topicsFromDirectory(config.kb.dir) : DEFAULT_TOPICS);
  const graph = await ChatGraph.create({
    model: chatModel,
    embeddings,
    topics: routeTopics,
    modes: { router: config.agents.router, critic: config.agents.critic },
    maxTokens: config.model.maxTokens,
    memory,
    knowledgeBase,
    ...(verified ? { verified } : {}),
    ...(manual ? { manual } : {}),
    verifiedThresholds: { reuse: config.agents.verifiedReuseThreshold, hint: config.agents.verifiedHintThreshold },
    spec,
    modelName,
    threshold: config.agents.criticThreshold,
    maxRevisions: config.agents.maxRevisions,
    logger,
    now,
  });
  // only as many exchanges as the answerer is given (graph spec recall.history; none by default)
  const history = new SessionHistory({ turns: spec.recall.history });
  const routeNames = [...new Set([...routeTopics.map((topic) => topic.name), "general"])];
  let disposed = false;

  const publishMemory = () => {
    const counts = memory.counts();
    metrics.memoryEntries.set({ success: "true" }, counts.success);
    metrics.memoryEntries.set({ success: "false" }, counts.failure);
  };
  publishMemory();

  const host = chatModel as Partial<AdapterHost>;
  /** Leases the selected slot when the backend can (AdapterHost.leaseAdapter); else calls go by slot name. */
  const leaseSelected = (selected: TurnAdapter | null): { adapter: TurnAdapter | null; release: () => void } => {
    if (selected === null || typeof host.leaseAdapter !== "function") return { adapter: selected, release: () => undefined };
    try {
      const lease = host.leaseAdapter(selected.slot);
      return { adapter: { slot: lease.slot, version: lease.version }, release: () => lease.release() };
    } catch (error) {
      // Unloaded between selection and lease: the run fails with ADAPTER_NOT_FOUND and is retried on a new selection.
      if (isCouncilError(error, "ADAPTER_NOT_FOUND")) return { adapter: selected, release: () => undefined };
      throw error;
    }
  };

  async function turn(request: TurnRequest): Promise<TurnResult> {
    if (disposed) throw new CouncilError("BACKEND_UNAVAILABLE", "The council was disposed.");
    const parsed = turnRequestSchema.safeParse(request);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new CouncilError("FRAME_INVALID", `Invalid turn request: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
    const { text, sessionId } = parsed.data;
    const userId = parsed.data.userId ?? null;
    const traceId = generateId();
    // The selected slot's adapter is held for the whole turn: a rollback unloading the canary after the answer
    // started streaming must not fail the turn's later calls (critic, revision) with ADAPTER_NOT_FOUND.
    let selected = selectAdapter({ userId, sessionId, question: text });
    let held = leaseSelected(selected?.outsideScope ? null : selected);
    let adapter = held.adapter;
    // metrics count the turn for the release routed to it (the canary judges the release, scope included)
    let adapterLabel = selected?.version ?? "base";
    const log = logger.child({ traceId, sessionId });
    const started = performance.now();
    const cpuAtStart = cpuSeconds();
    let endTimer = metrics.requestDuration.startTimer({ adapter: adapterLabel });
    let firstToken = true;
    const onToken = (token: string) => {
      if (firstToken) {
        firstToken = false;
        metrics.timeToFirstToken.observe({ adapter: adapterLabel }, (performance.now() - started) / 1000);
      }
      request.onToken?.(token);
    };
    const run = () =>
      graph.run(
        { traceId, sessionId, userId, question: text, history: history.get({ userId, sessionId }), adapter, startedAt: now() },
        { onToken, ...(request.onRevise ? { onRevise: request.onRevise } : {}), ...(request.signal ? { signal: request.signal } : {}) },
      );
    let state: ChatStateValue;
    try {
      try {
        state = await run();
      } catch (error) {
        // The selected slot was removed between selection and generation (a rollback or promotion unloading the
        // canary). Nothing was streamed or recorded yet: answer once more on what is selected now.
        if (!(asCouncilError(error, request.signal).code === "ADAPTER_NOT_FOUND" && firstToken && adapter !== null)) throw error;
        const previous = adapterLabel;
        held.release();
        selected = selectAdapter({ userId, sessionId, question: text });
        held = leaseSelected(selected?.outsideScope ? null : selected);
        adapter = held.adapter;
        adapterLabel = selected?.version ?? "base";
        endTimer = metrics.requestDuration.startTimer({ adapter: adapterLabel });
        log.warn({ previous, adapter: adapterLabel }, "adapter slot unloaded before generation; answering on the current selection");
        state = await run();
      }
    } catch (error) {
      endTimer();
      const failure = asCouncilError(error, request.signal);
      metrics.requests.inc({ route: "none", adapter: adapterLabel, outcome: failure.code === "BUSY" ? "busy" : "error" });
      log.warn({ err: failure, code: failure.code }, "turn failed");
      throw failure;
    } finally {
      held.release();
    }
    endTimer();
    const record = state.recorded as TurnRecord;
    metrics.requests.inc({ route: record.route, adapter: adapterLabel, outcome: record.success ? "success" : "failure" });
    metrics.tokensGenerated.inc({ adapter: adapterLabel }, record.tokens);
    metrics.answerCpuSeconds.inc({ adapter: adapterLabel }, Math.max(0, cpuSeconds() - cpuAtStart));
    metrics.criticScore.observe({ adapter: adapterLabel }, record.score);
    publishMemory();
    const delivered = state.delivered ?? record.answer;
    history.add({ userId, sessionId }, { question: text, answer: delivered });
    log.info({ route: record.route, score: record.score, success: record.success, source: state.source?.kind, revisions: state.revisions, steps: state.steps, latencyMs: record.latencyMs }, "turn");
    return {
      traceId,
      answer: delivered,
      source: state.source ?? { kind: "model", adapter: record.adapter },
      score: record.score,
      success: record.success,
      route: record.route,
      adapter: record.adapter,
      category: record.category,
      reasons: record.reasons,
      latencyMs: record.latencyMs,
      tokens: record.tokens,
      steps: state.steps,
      revisions: state.revisions,
    };
  }

  return {
    graph,
    metrics,
    routes: () => [...routeNames],
    turn,
    async feedback(input) {
      const parsed = feedbackSchema.safeParse(input);
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new CouncilError("FRAME_INVALID", `Invalid feedback: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
      }
      const { traceId, rating, comment, correction, anonymous } = parsed.data;
      const record = await memory.setFeedback(traceId, {
        rating,
        ...(comment === undefined ? {} : { comment }),
        ...(correction === undefined ? {} : { correction }),
        ...(anonymous ? { anonymous } : {}),
        at: now(),
      });
      metrics.feedback.inc({ rating: rating === 1 ? "up" : "down", adapter: record.adapter ?? "base" });
      // A 👎 on an answer served from verified memory takes that entry out of service at once (the turn is a failure now, so the night harvests it).
      const entry = rating === -1 ? await verified?.servedBy(traceId) : undefined;
      if (entry !== undefined) await verified!.demote({ id: entry, note: `👎 on trace ${traceId}`, actor: record.userId ?? ANONYMOUS_ACTOR });
      publishMemory();
      logger.info({ traceId, rating }, "feedback");
      return record;
    },
    trace: (traceId) => memory.get(traceId),
    ready: () => !disposed && ready(),
    async dispose() {
      if (disposed) return;
      disposed = true;
      for (const resource of owned) await resource.dispose();
    },
  };
}

/** Process CPU time (user + system) in seconds; covers llama.cpp's native threads too. */
export function processCpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

function asCouncilError(error: unknown, signal: AbortSignal | undefined): CouncilError {
  if (isCouncilError(error)) return error;
  if (signal?.aborted) return new CouncilError("CANCELLED", "The turn was cancelled.", { cause: error });
  return new CouncilError("INTERNAL", `The council failed: ${(error as Error)?.message ?? String(error)}`, { cause: error });
}
