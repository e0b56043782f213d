import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Annotation, END, interrupt, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { z } from "zod";
import { isCouncilError, silentLogger, type CouncilMetrics, type Logger } from "../../core/index.js";
import { buildDataset, type AcceptedExample, type FilterReport } from "../../training/datasets/index.js";
import { runGate } from "./gate.js";
import { harvestFailures } from "./harvest.js";
import type { ImproveStore } from "./improve-store.js";
import type { ImprovePorts } from "./ports.js";
import type { Candidate, EvalCase, GateReport, HarvestItem, RunOutcome, TrainingResult, VoteDecision } from "./types.js";

const replace = <T>(initial: () => T) => Annotation<T>({ reducer: (_old, next) => next, default: initial });

export const ImproveStateAnnotation = Annotation.Root({
  runId: replace<string>(() => ""),
  since: replace<number>(() => 0),
  until: replace<number>(() => 0),
  harvested: replace<HarvestItem[]>(() => []),
  harvestFilters: replace<FilterReport[]>(() => []),
  candidates: replace<Candidate[]>(() => []),
  decisions: replace<VoteDecision[]>(() => []),
  datasetInfo: replace<{ dir: string; sha256: string; examples: number } | null>(() => null),
  training: replace<TrainingResult | null>(() => null),
  gateReport: replace<GateReport | null>(() => null),
  approval: replace<"approved" | "rejected" | null>(() => null),
  version: replace<string | null>(() => null),
  outcome: replace<RunOutcome | null>(() => null),
  reasons: replace<string[]>(() => []),
});

export type ImproveState = typeof ImproveStateAnnotation.State;

export interface ImproveGraphOptions {
  ports: ImprovePorts;
  store: ImproveStore;
  /** `<dataDir>/data/runs`: one folder per run (dataset, adapter, gate.json). */
  runsDir: string;
  checkpointer: BaseCheckpointSaver;
  policy: "auto" | "approve";
  criticThreshold: number;
  harvestMinBatch: number;
  maxPerUserPerDay: number;
  maxUserShare: number;
  /** Passed to the harvest: train on corrections from users without a verified chat token. @default false */
  trainAnonymousCorrections?: boolean;
  minSuccessDelta: number;
  maxLatencyRatio: number;
  metrics?: CouncilMetrics;
  logger?: Logger;
  /** Test hook: called when a node starts and when its work is done, before the checkpoint (crash-resume tests throw from it). */
  onNode?: (node: string, phase: "start" | "end", state: ImproveState) => void | Promise<void>;
}

export const IMPROVE_NODES = ["harvest", "rewrite", "vote", "dataset", "train", "gate", "approve", "deploy", "canary"] as const;

const approvalSchema = z.union([z.literal("approve"), z.literal("reject"), z.object({ decision: z.enum(["approve", "reject"]), reason: z.string().optional() })]);

/**
 * The nightly improvement graph. Every node is idempotent, and the checkpointer stores the state after each,
 * so a run killed anywhere resumes at the node it was in: dataset and adapter folders are keyed by run id and
 * reused when complete, publishing is content-addressed, accepted examples are written once per run.
 */
export function createImproveGraph(options: ImproveGraphOptions) {
  const { ports, store, runsDir, checkpointer, policy, metrics, logger = silentLogger, onNode } = options;
  const runDir = (state: ImproveState) => join(runsDir, state.runId);
  const enter = async (node: string, state: ImproveState) => {
    logger.info({ runId: state.runId, node }, "improve node started");
    await onNode?.(node, "start", state);
  };
  /** Wraps a node so the test hook also sees the moment after its side effects. */
  const node =
    <U>(name: string, body: (state: ImproveState) => Promise<U>) =>
    async (state: ImproveState): Promise<U> => {
      const update = await body(state);
      await onNode?.(name, "end", state);
      return update;
    };

  const harvest = async (state: ImproveState) => {
    await enter("harvest", state);
    const result = await harvestFailures({
      memory: ports.memory,
      since: state.since,
      until: state.until,
      criticThreshold: options.criticThreshold,
      evalSets: [{ name: "holdout", items: ports.evalSets.holdout }],
      maxPerUserPerDay: options.maxPerUserPerDay,
      maxUserShare: options.maxUserShare,
      trainAnonymousCorrections: options.trainAnonymousCorrections ?? false,
    });
    metrics?.harvestedItems.inc(result.items.length);
    if (result.items.length < options.harvestMinBatch) {
      return { harvested: result.items, harvestFilters: result.filters, outcome: "nothing-to-do" as const, reasons: [`${result.items.length} failure(s) harvested from ${result.turns} failed turn(s); minimum batch is ${options.harvestMinBatch}`] };
    }
    return { harvested: result.items, harvestFilters: result.filters };
  };

  const rewrite = async (state: ImproveState) => {
    await enter("rewrite", state);
    const candidates: Candidate[] = [];
    for (const item of state.harvested) candidates.push(...(await ports.rewrite(item)));
    return { candidates };
  };

  const vote = async (state: ImproveState) => {
    await enter("vote", state);
    const decisions: VoteDecision[] = [];
    for (const item of state.harvested) {
      const mine = state.candidates.filter((candidate) => candidate.itemId === item.id);
      if (mine.length === 0) {
        decisions.push({ itemId: item.id, accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: "no candidates" });
        continue;
      }
      try {
        decisions.push(await ports.vote(item, mine));
      } catch (error) {
        if (!isCouncilError(error, "QUORUM_NOT_REACHED")) throw error;
        decisions.push({ itemId: item.id, accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: error.message });
      }
    }
    for (const decision of decisions) metrics?.votes.inc({ decision: decision.accepted ? "accepted" : "rejected" });
    await mkdir(runDir(state), { recursive: true });
    await writeFile(join(runDir(state), "ballots.json"), JSON.stringify(decisions, null, 2));
    if (!decisions.some((decision) => decision.accepted)) {
      return { decisions, outcome: "nothing-to-do" as const, reasons: ["the council accepted no rewrite"] };
    }
    return { decisions };
  };

  const dataset = async (state: ImproveState) => {
    await enter("dataset", state);
    const tonight: AcceptedExample[] = [];
    for (const decision of state.decisions.filter((d) => d.accepted)) {
      const item = state.harvested.find((i) => i.id === decision.itemId)!;
      const winner = state.candidates.find((c) => c.id === decision.winnerId)!;
      tonight.push({ id: `${state.runId}:${item.id}`, traceIds: item.traceIds, userId: item.userId, createdAt: item.createdAt, question: item.question, messages: await ports.promptMessages(item.question), chosen: winner.text, rejected: item.failedAnswer });
    }
    await store.appendAccepted(state.runId, tonight);
    // Cumulative: every night's accepted examples, newest answer winning for a repeated question.
    const all = (await store.accepted()).map((row) => row.example).reverse();
    const outDir = join(runDir(state), "dataset");
    const manifestPath = join(outDir, "manifest.json");
    const manifest = existsSync(manifestPath)
      ? (JSON.parse(await readFile(manifestPath, "utf8")) as { sha256: string; counts: { sft: number } })
      : await buildDataset({ accepted: all, evalSets: [{ name: "holdout", items: ports.evalSets.holdout }], outDir, maxPerUserPerDay: Number.MAX_SAFE_INTEGER, maxUserShare: 1, overwrite: true });
    return { datasetInfo: { dir: outDir, sha256: manifest.sha256, examples: manifest.counts.sft } };
  };

  const train = async (state: ImproveState) => {
    await enter("train", state);
    const outDir = join(runDir(state), "adapter");
    const adapterPath = join(outDir, "adapter.gguf");
    const trainingJson = join(outDir, "training.json");
    if (existsSync(adapterPath) && existsSync(trainingJson)) {
      return { training: { adapterDir: outDir, adapterPath, datasetSha256: state.datasetInfo!.sha256, seconds: 0, finalLoss: null, skipped: true } };
    }
    const started = performance.now();
    const end = metrics?.trainingDuration.startTimer();
    const { finalLoss } = await ports.train({ datasetDir: state.datasetInfo!.dir, outDir });
    end?.();
    if (finalLoss !== null) metrics?.trainingLoss.set(finalLoss);
    return { training: { adapterDir: outDir, adapterPath, datasetSha256: state.datasetInfo!.sha256, seconds: (performance.now() - started) / 1000, finalLoss, skipped: false } };
  };

  const gate = async (state: ImproveState) => {
    await enter("gate", state);
    const gatePath = join(runDir(state), "gate.json");
    let report: GateReport;
    if (existsSync(gatePath)) report = JSON.parse(await readFile(gatePath, "utf8")) as GateReport;
    else {
      const accepted = (await store.accepted()).map((row) => row.example);
      const tonightIds = new Set(state.decisions.filter((d) => d.accepted).map((d) => `${state.runId}:${d.itemId}`));
      const target: EvalCase[] = accepted.filter((e) => tonightIds.has(e.id)).map((e) => ({ id: e.id, question: e.question, reference: e.chosen }));
      const regression = await regressionCases(ports, accepted.filter((e) => !tonightIds.has(e.id)));
      const candidatePath = state.training!.adapterPath;
      const servingPath = await ports.currentAdapterPath();
      const currentPath = servingPath ?? (ports.baselineAdapter ? await ports.baselineAdapter({ candidatePath, out: join(runDir(state), "gate-baseline.gguf") }) : null);
      report = await runGate({
        suites: { target, holdout: ports.evalSets.holdout, regression, safety: ports.evalSets.safety },
        answer: ports.answer,
        candidatePath,
        currentPath,
        minSuccessDelta: options.minSuccessDelta,
        maxLatencyRatio: options.maxLatencyRatio,
        probePrompts: ports.probePrompts,
      });
      report.current = servingPath ?? (currentPath === null ? "base model" : "base model, through a zero-B twin of the candidate");
      await writeFile(gatePath, JSON.stringify(report, null, 2));
    }
    for (const suite of report.suites) metrics?.evalScore.set({ suite: suite.suite }, suite.successCandidate);
    if (!report.passed) return { gateReport: report, outcome: "gate-failed" as const, reasons: report.reasons };
    return { gateReport: report };
  };

  const approve = async (state: ImproveState) => {
    await enter("approve", state);
    if (policy === "auto") return { approval: "approved" as const };
    const answer = approvalSchema.parse(interrupt({ runId: state.runId, question: "approve this adapter?", gate: state.gateReport }));
    const decision = typeof answer === "string" ? answer : answer.decision;
    if (decision === "reject") return { approval: "rejected" as const, outcome: "rejected" as const, reasons: [typeof answer === "string" ? "rejected by operator" : (answer.reason ?? "rejected by operator")] };
    return { approval: "approved" as const };
  };

  const deploy = async (state: ImproveState) => {
    await enter("deploy", state);
    const { version } = await ports.publish({ adapterDir: state.training!.adapterDir, gate: state.gateReport! });
    metrics?.deployments.inc();
    return { version };
  };

  const canary = async (state: ImproveState) => {
    await enter("canary", state);
    const result = await ports.canary({ version: state.version! });
    return { outcome: result.outcome, reasons: [result.reason] };
  };

  const continueUnlessDone = (next: string) => (state: ImproveState) => (state.outcome === null ? next : END);

  return new StateGraph(ImproveStateAnnotation)
    .addNode("harvest", node("harvest", harvest))
    .addNode("rewrite", node("rewrite", rewrite))
    .addNode("vote", node("vote", vote))
    .addNode("dataset", node("dataset", dataset))
    .addNode("train", node("train", train))
    .addNode("gate", node("gate", gate))
    .addNode("approve", node("approve", approve))
    .addNode("deploy", node("deploy", deploy))
    .addNode("canary", node("canary", canary))
    .addEdge(START, "harvest")
    .addConditionalEdges("harvest", continueUnlessDone("rewrite"), ["rewrite", END])
    .addEdge("rewrite", "vote")
    .addConditionalEdges("vote", continueUnlessDone("dataset"), ["dataset", END])
    .addEdge("dataset", "train")
    .addEdge("train", "gate")
    .addConditionalEdges("gate", continueUnlessDone("approve"), ["approve", END])
    .addConditionalEdges("approve", continueUnlessDone("deploy"), ["deploy", END])
    .addEdge("deploy", "canary")
    .addEdge("canary", END)
    .compile({ checkpointer });
}

/** Earlier nights' accepted answers plus every turn that passed in memory, one case per question. */
async function regressionCases(ports: ImprovePorts, earlier: readonly AcceptedExample[]): Promise<EvalCase[]> {
  const cases = new Map<string, EvalCase>();
  for (const example of earlier) cases.set(example.question.toLowerCase(), { id: example.id, question: example.question, reference: example.chosen });
  for (const turn of await ports.memory.turns({})) {
    if (!turn.success || turn.feedback?.rating === -1) continue;
    const key = turn.question.toLowerCase();
    if (!cases.has(key)) cases.set(key, { id: turn.traceId, question: turn.question, reference: turn.answer });
  }
  return [...cases.values()];
}

export type ImproveGraph = ReturnType<typeof createImproveGraph>;
