import { existsSync } from "node:fs";
import type { EmbeddingsInterface } from "@langchain/core/embeddings";
import { Agent0, Answerer, buildAnswerMessages, Critic, type CouncilChatModel } from "../agents/index.js";
import { type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import { CanaryController, PrometheusSource, RegistrySource, type AdapterRegistry, type AnalysisSource, type CanaryState, type ReleaseStore } from "../deploy/index.js";
import type { GraphSpec } from "../graphs/index.js";
import { type AnswerPort, type Candidate, type EvalCase, type HarvestItem, type ImprovePorts, type VoteDecision } from "../graphs/improve/index.js";
import type { KnowledgeBase, MemoryStore } from "../memory/index.js";
import { writeZeroBAdapter, type AdapterHost } from "../models/index.js";
import { readAdapterScope, scopeMatcher, scopeTrainedAdapter, trainBase, type Trainer } from "../training/index.js";
import { loadEvalSet, nightlyEpochs } from "../training/datasets/index.js";
import { processCpuSeconds } from "./create-council.js";
import { councilVote } from "./voting/index.js";

export interface ImprovementPortsOptions {
  config: CouncilConfig;
  chatModel: CouncilChatModel;
  /** Where gate candidates are loaded for evaluation (the serving target's adapter host). */
  adapterHost: AdapterHost;
  embeddings: EmbeddingsInterface;
  memory: MemoryStore;
  knowledgeBase: KnowledgeBase;
  registry: AdapterRegistry;
  /** The stable/canary record the canary controller writes (Postgres when replicas share it). @default loras/ (FileReleaseStore) */
  releases?: ReleaseStore;
  trainer: Trainer;
  spec: GraphSpec;
  metrics: CouncilMetrics;
  logger: Logger;
  /** In-process routers learn canary weights from here (the watcher covers other processes). */
  onCanaryState?: (state: CanaryState) => void;
  /** @default Prometheus when configured, else the in-process registry of `metrics` */
  analysisSource?: AnalysisSource;
  /** Process CPU seconds, read around each gate answer (cost per answer). @default process.cpuUsage */
  cpuSeconds?: () => number;
}

/** Fixed questions whose candidate outputs go into eval.json; the server replays them to prove what it serves. */
export const PROBE_PROMPTS = ["How do I list all files in a directory, including hidden ones?", "How do I reset my password?"];

const EVAL_SLOTS = ["eval", "eval-current"];

/** Answers exactly as the chat graph's answerer does (same prompt, same retrieved passages), on an adapter slot. */
export function createProbeAnswerer({ chatModel, knowledgeBase, spec, config }: Pick<ImprovementPortsOptions, "chatModel" | "knowledgeBase" | "spec" | "config">) {
  const answerer = new Answerer({ model: chatModel, maxTokens: config.model.maxTokens, ...(spec.prompts.answerer ? { system: spec.prompts.answerer } : {}) });
  const promptMessages = async (question: string) =>
    buildAnswerMessages({ question, passages: spec.recall.passages > 0 ? await knowledgeBase.search(question, { k: spec.recall.passages }) : [], ...(spec.prompts.answerer ? { system: spec.prompts.answerer } : {}) });
  const answer = async (question: string, slot: string | null) => {
    const passages = spec.recall.passages > 0 ? await knowledgeBase.search(question, { k: spec.recall.passages }) : [];
    return answerer.answer({ question, passages, adapter: slot });
  };
  return { promptMessages, answer };
}

/** Passages Agent-0 and the vote read per question at night. */
const NIGHT_PASSAGES = (spec: GraphSpec) => Math.max(5, spec.recall.passages);

/**
 * The real ports of the improvement graph: Agent-0, the voting council (see `councilVote`: grounding, intent,
 * peers from other sources, and the model critic when it judged), the trainer, the gate's answerer on adapter slots, the registry, and the canary controller.
 */
export async function createImprovementPorts(options: ImprovementPortsOptions): Promise<ImprovePorts> {
  const { config, chatModel, adapterHost, embeddings, memory, knowledgeBase, registry, trainer, spec, metrics, logger, cpuSeconds = processCpuSeconds } = options;
  const agent0 = new Agent0({ model: chatModel, knowledgeBase, mode: config.agents.agent0, k: spec.recall.passages || 3, maxTokens: config.model.maxTokens, ...(spec.prompts.agent0 ? { systemPrompt: spec.prompts.agent0 } : {}) });
  const critic = new Critic({ model: chatModel, embeddings, mode: config.agents.critic, threshold: config.agents.criticThreshold, groundCommands: spec.groundCommands, ...(spec.prompts.critic ? { systemPrompt: spec.prompts.critic } : {}) });
  const probe = createProbeAnswerer({ chatModel, knowledgeBase, spec, config });

  const holdout: EvalCase[] = config.improve.holdoutFile ? (await loadEvalSet(config.improve.holdoutFile)).items.map((item) => ({ id: item.id, question: item.question, ...(item.accept ? { accept: item.accept } : {}) })) : [];
  const safety: EvalCase[] = existsSync(config.improve.safetyFile) ? (await loadEvalSet(config.improve.safetyFile)).items.map((item) => ({ id: item.id, question: item.question, reject: item.reject ?? [] })) : [];

  // Two eval slots, least recently used one reloaded: the gate alternates candidate and current per case, and
  // each load builds a llama.cpp context.
  const evalSlots: Array<{ slot: string; path: string | null; used: number }> = EVAL_SLOTS.map((slot) => ({ slot, path: null, used: 0 }));
  let uses = 0;
  const slotFor = async (adapterPath: string): Promise<string> => {
    let entry = evalSlots.find((candidate) => candidate.path === adapterPath);
    if (entry === undefined) {
      entry = evalSlots.reduce((oldest, candidate) => (candidate.used < oldest.used ? candidate : oldest));
      entry.path = null;
      await adapterHost.setAdapter({ slot: entry.slot, path: adapterPath, version: entry.slot });
      entry.path = adapterPath;
    }
    entry.used = ++uses;
    return entry.slot;
  };
  /** Each adapter file's scope check, read once (a published adapter file never changes). */
  const scopes = new Map<string, (question: string) => boolean>();
  const answerPort: AnswerPort = {
    async answer({ question, adapterPath }) {
      const slot = adapterPath === null ? null : await slotFor(adapterPath);
      const started = performance.now();
      const cpuAtStart = cpuSeconds();
      const result = await probe.answer(question, slot);
      return { text: result.answer, latencyMs: performance.now() - started, tokens: result.tokens, cpuSeconds: Math.max(0, cpuSeconds() - cpuAtStart) };
    },
  };

  const source = options.analysisSource ?? (config.improve.prometheusUrl ? new PrometheusSource({ url: config.improve.prometheusUrl }) : new RegistrySource({ registry: metrics.registry }));

  return {
    memory,
    async rewrite(item: HarvestItem): Promise<Candidate[]> {
      // At night latency does not matter: Agent-0 and the vote look at more passages than a chat turn does (the page
      // that answers is often 4th or 5th by hash-embedding similarity).
      const passages = await knowledgeBase.search(item.question, { k: NIGHT_PASSAGES(spec) });
      const result = await agent0.rewrite({ question: item.question, failedAnswer: item.failedAnswer, correction: item.correction ?? null, passages });
      return result.candidates.map((candidate) => ({ id: candidate.id, itemId: item.id, text: candidate.answer, source: candidate.source === "kb-grounded" ? "knowledge-base" : candidate.source }));
    },
    async vote(item: HarvestItem, candidates: Candidate[]): Promise<VoteDecision> {
      const passages = await knowledgeBase.search(item.question, { k: NIGHT_PASSAGES(spec) });
      const vote = await councilVote({
        question: item.question,
        candidates,
        passages,
        quorum: config.improve.voteQuorum,
        acceptScore: config.improve.voteAcceptScore,
        critic: async (candidate) => {
          const judged = await critic.critique({ question: item.question, answer: candidate.text, passages });
          // Only a model's review is a voter of its own; the heuristic fallback is word overlap with the passages.
          return judged.step.method === "llm" ? judged.value : undefined;
        },
      });
      if (vote.excluded.length > 0) logger.debug({ itemId: item.id, excluded: vote.excluded }, "candidates kept off the ballot");
      return { itemId: item.id, accepted: vote.accepted, winnerId: vote.winnerId, winnerScore: vote.winnerScore, ballots: vote.ballots, reason: vote.reason };
    },
    promptMessages: probe.promptMessages,
    async train({ dataset, outDir, signal, onProgress }) {
      // Small nights need many epochs to learn their few answers; big ones get there in fewer.
      const epochs = nightlyEpochs(config.training, dataset.examples);
      logger.info({ examples: dataset.examples, epochs }, "training the nightly adapter");
      const result = await trainer.train({
        dataset: dataset.dir,
        // the base the configured trainer takes: COUNCIL_TRAIN_BASE, else (GGUF trainers) the served model
        base: trainBase({ config }).path,
        out: outDir,
        rank: config.training.rank,
        alpha: config.training.alpha,
        epochs,
        learningRate: config.training.learningRate,
        targets: config.training.targets,
        ...(signal ? { signal } : {}),
        onProgress: (progress) => {
          if (progress.kind === "epoch") logger.info({ epoch: progress.epoch, epochs: progress.epochs, loss: progress.loss, etaSeconds: progress.etaSeconds }, "training epoch");
          onProgress?.(progress);
        },
      });
      return { finalLoss: result.report.lossCurve.at(-1)?.loss ?? null };
    },
    async scopeAdapter({ adapterPath, questions, keep }) {
      if (config.training.scopeSimilarity > 0) await scopeTrainedAdapter(adapterPath, { questions, keep, minSimilarity: config.training.scopeSimilarity });
    },
    async adapterInScope(adapterPath, question) {
      let matcher = scopes.get(adapterPath);
      if (matcher === undefined) scopes.set(adapterPath, (matcher = scopeMatcher(readAdapterScope(adapterPath))));
      return matcher(question);
    },
    answer: answerPort,
    async currentAdapterPath() {
      const { version, problem } = options.releases === undefined ? { version: await registry.current(), problem: null } : await options.releases.stable();
      if (problem) throw problem;
      return version === null ? null : (await registry.get(version)).adapterPath;
    },
    async baselineAdapter({ candidatePath, out }) {
      // written once per run: a loaded adapter file must never change in place
      if (!existsSync(out)) await writeZeroBAdapter({ adapter: candidatePath, out });
      return out;
    },
    async publish({ adapterDir, gate }) {
      for (const entry of evalSlots) {
        if (entry.path === null) continue;
        await adapterHost.removeAdapter(entry.slot);
        entry.path = null;
      }
      const { version } = await registry.publishDir({ adapterDir, evaluation: { ...gate, probes: gate.probes } });
      return { version };
    },
    async canary({ version }) {
      const controller = new CanaryController({ registry, ...(options.releases ? { releases: options.releases } : {}), source, settings: config.improve, metrics, logger, ...(options.onCanaryState ? { onState: options.onCanaryState } : {}) });
      const outcome = await controller.run({ version });
      const windows = outcome.analyses.map(({ step, weight, at, verdict, reason, metrics }) => ({ step, weight, at, verdict, reason, metrics }));
      return outcome.status === "promoted" ? { outcome: "promoted", reason: `canary ${version} promoted after ${outcome.analyses.length} analysis window(s)`, windows } : { outcome: "rolled-back", reason: outcome.reason, windows };
    },
    evalSets: { holdout, safety },
    probePrompts: PROBE_PROMPTS,
  };
}
