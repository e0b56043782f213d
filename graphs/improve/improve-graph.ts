import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Annotation, END, interrupt, START, StateGraph, type BaseCheckpointSaver } from "@langchain/langgraph";
import { z } from "zod";
import { isCouncilError, silentLogger, type CouncilMetrics, type Logger } from "../../core/index.js";
import { NIGHTLY_ACTOR, type EventType } from "../../memory/index.js";
import { buildDataset, nightlyDataset, readNightlyDataset, type FilterReport, type NightlyDataset } from "../../training/datasets/index.js";
import { runGate } from "./gate.js";
import { withCanaryVerdicts } from "./gate-canary.js";
import { harvestFailures } from "./harvest.js";
import { regressionCases } from "./regression-cases.js";
import { acceptedExamples, droppedIds, replayExamples, scopeNightAdapter } from "./night-examples.js";
import { harvestRated, memoryGate, releaseBase, verifiedCandidates, writeRelease, type MemoryGateReport } from "./memory-release.js";
import type { ImproveStore } from "./improve-store.js";
import type { ImprovePorts } from "./ports.js";
import { foldReviewed, queueForReview, type ReviewOptions } from "./review-fold.js";
import type { ReviewedItem } from "./review-queue.js";
import type { Candidate, EvalCase, GateReport, HarvestItem, MemoryReleaseInfo, RunOutcome, TrainingResult, VoteDecision } from "./types.js";

const replace = <T>(initial: () => T) => Annotation<T>({ reducer: (_old, next) => next, default: initial });

export const ImproveStateAnnotation = Annotation.Root({
  runId: replace<string>(() => ""),
  since: replace<number>(() => 0),
  until: replace<number>(() => 0),
  harvested: replace<HarvestItem[]>(() => []),
  harvestFilters: replace<FilterReport[]>(() => []),
  /** Answers users rated 👍, for the council to verify (never training data by themselves). */
  rated: replace<HarvestItem[]>(() => []),
  candidates: replace<Candidate[]>(() => []),
  decisions: replace<VoteDecision[]>(() => []),
  /** Review-queue items people accepted since the last night: folded into tonight as pre-decided items. */
  reviewed: replace<ReviewedItem[]>(() => []),
  ratedDecisions: replace<VoteDecision[]>(() => []),
  memoryGate: replace<MemoryGateReport | null>(() => null),
  memoryRelease: replace<MemoryReleaseInfo | null>(() => null),
  /** The dataset handoff: built or read once in the dataset step, then carried to training and the summary. */
  datasetInfo: replace<NightlyDataset | null>(() => null),
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
  /** Gate: candidate output size per answer ≤ this × current's. @default 1.5 */
  maxCostRatio?: number;
  /** The canary's satisfaction rule, recorded as the satisfaction metric's bar in gate.json. */
  satisfaction?: { maxDrop: number; minRatings: number };
  /**
   * Passing answers (rated 👍, verified by tonight's vote) replayed per fix in the adapter's dataset, so it keeps what
   * already worked. Above 0 the night harvests rated answers for the adapter too (at most ⌈ratio × failures⌉ of
   * them when verified memory is off). @default 0
   */
  replayRatio?: number;
  /** What a night may release. @default ["memory", "adapter"] (memory only when ports.verified is set) */
  channels?: ReadonlyArray<"memory" | "adapter">;
  /** Question similarity at which a verified entry answers a turn (the memory gate checks cases above it). @default 0.9 */
  reuseThreshold?: number;
  /** The review queue: tonight's between-the-bars votes go to it, and earlier accepted reviews come from it. Absent: no queue. */
  review?: ReviewOptions;
  metrics?: CouncilMetrics;
  logger?: Logger;
  /** Test hook: called when a node starts and when its work is done, before the checkpoint (crash-resume tests throw from it). */
  onNode?: (node: string, phase: "start" | "end", state: ImproveState) => void | Promise<void>;
}

export const IMPROVE_NODES = ["harvest", "rewrite", "vote", "verify", "dataset", "train", "gate", "approve", "deploy", "canary"] as const;

const approvalSchema = z.union([z.literal("approve"), z.literal("reject"), z.object({ decision: z.enum(["approve", "reject"]), reason: z.string().optional(), actor: z.string().min(1).max(200).optional() })]);

/**
 * The nightly improvement graph. Every node is idempotent, and the checkpointer stores the state after each,
 * so a run killed anywhere resumes at the node it was in: dataset and adapter folders are keyed by run id and
 * reused when complete, publishing is content-addressed, accepted examples are written once per run.
 */
export function createImproveGraph(options: ImproveGraphOptions) {
  const { ports, store, runsDir, checkpointer, policy, metrics, logger = silentLogger, onNode, channels = ["memory", "adapter"], reuseThreshold = 0.9 } = options;
  const memoryChannel = channels.includes("memory") && ports.verified !== undefined;
  const adapterChannel = channels.includes("adapter");
  const replayRatio = adapterChannel ? Math.max(0, options.replayRatio ?? 0) : 0;
  const runDir = (state: ImproveState) => join(runsDir, state.runId);
  /** Releases tonight's gated entries without an adapter (active at once), when the adapter will not carry them. */
  const releaseMemoryOnly = async (state: ImproveState): Promise<MemoryReleaseInfo | null> => {
    const gate = state.memoryGate;
    if (!memoryChannel || gate === null) return state.memoryRelease;
    const release = `memory:${state.runId}`;
    const released = await writeRelease({ verified: ports.verified!, entries: gate.kept, release, status: "active" });
    const info: MemoryReleaseInfo = { ...releaseBase(gate), released, release: released > 0 ? release : null, status: released > 0 ? "active" : null };
    await writeReleaseJson(state, info, "memory only (the adapter does not ship tonight)");
    return info;
  };
  const writeReleaseJson = async (state: ImproveState, memory: MemoryReleaseInfo, adapter: string) => {
    await mkdir(runDir(state), { recursive: true });
    await writeFile(join(runDir(state), "release.json"), JSON.stringify({ adapter, memory }, null, 2));
  };
  /** Appends to the event log (when the ports have one) before the node's result is checkpointed. */
  const emit = async (type: EventType, payload: Record<string, unknown>, actor = NIGHTLY_ACTOR) => {
    await ports.events?.append({ actor, type, payload });
  };
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
    const folded = await foldReviewed({ review: options.review, runId: state.runId, items: result.items });
    const allRated = memoryChannel || replayRatio > 0 ? await harvestRated({ memory: ports.memory, since: state.since, until: state.until, evalSets: [{ name: "holdout", items: ports.evalSets.holdout }] }) : [];
    // Only for replay, the vote need not see more rated answers than the dataset can use (newest first).
    const rated = memoryChannel ? allRated : allRated.slice(Math.max(0, allRated.length - Math.ceil(replayRatio * folded.harvested.length)));
    if (result.items.length < options.harvestMinBatch && (memoryChannel ? rated.length : 0) === 0 && folded.reviewed.length === 0) {
      return { harvested: result.items, harvestFilters: result.filters, rated, outcome: "nothing-to-do" as const, reasons: [`${result.items.length} failure(s) harvested from ${result.turns} failed turn(s); minimum batch is ${options.harvestMinBatch}`] };
    }
    return { harvested: folded.harvested, harvestFilters: result.filters, rated, reviewed: folded.reviewed };
  };

  const rewrite = async (state: ImproveState) => {
    await enter("rewrite", state);
    const candidates: Candidate[] = [];
    for (const item of state.harvested) {
      const reviewed = state.reviewed.find((review) => review.item.id === item.id);
      candidates.push(...(reviewed !== undefined ? [reviewed.candidate] : await ports.rewrite(item)));
    }
    // A 👍 answer is its own (only) candidate: the council decides whether it is verified.
    for (const item of state.rated) candidates.push({ id: `${item.id}:rated`, itemId: item.id, text: item.ratedAnswer!, source: "rated" });
    await mkdir(runDir(state), { recursive: true });
    // What Agent-0 proposed for each question (benchmarks judge the candidates against ground truth).
    const byItem = [...state.harvested, ...state.rated].map((item) => ({ itemId: item.id, question: item.question, kind: item.ratedAnswer === undefined ? "failure" : "rated", candidates: candidates.filter((c) => c.itemId === item.id) }));
    await writeFile(join(runDir(state), "candidates.json"), JSON.stringify(byItem, null, 2));
    return { candidates };
  };

  const vote = async (state: ImproveState) => {
    await enter("vote", state);
    const voteOn = async (items: readonly HarvestItem[]) => {
      const out: VoteDecision[] = [];
      for (const item of items) {
        const mine = state.candidates.filter((candidate) => candidate.itemId === item.id);
        const reviewed = state.reviewed.find((review) => review.item.id === item.id);
        if (reviewed !== undefined) {
          out.push(reviewed.decision);
          continue;
        }
        if (mine.length === 0) {
          out.push({ itemId: item.id, accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: "no candidates" });
          continue;
        }
        try {
          out.push(await ports.vote(item, mine));
        } catch (error) {
          if (!isCouncilError(error, "QUORUM_NOT_REACHED")) throw error;
          out.push({ itemId: item.id, accepted: false, winnerId: null, winnerScore: 0, ballots: [], reason: error.message });
        }
      }
      return out;
    };
    const decisions = await voteOn(state.harvested);
    const ratedDecisions = await voteOn(state.rated);
    for (const decision of [...decisions, ...ratedDecisions]) metrics?.votes.inc({ decision: decision.accepted ? "accepted" : "rejected" });
    for (const decision of [...decisions, ...ratedDecisions]) {
      const item = [...state.harvested, ...state.rated].find((candidate) => candidate.id === decision.itemId);
      await emit("vote-cast", { runId: state.runId, ...decision, ...(item ? { traceIds: item.traceIds, userId: item.userId, question: item.question } : {}) });
    }
    await mkdir(runDir(state), { recursive: true });
    await writeFile(join(runDir(state), "ballots.json"), JSON.stringify([...decisions, ...ratedDecisions], null, 2));
    await queueForReview({ review: options.review, runId: state.runId, items: state.harvested, candidates: state.candidates, decisions });
    if (![...decisions, ...(memoryChannel ? ratedDecisions : [])].some((decision) => decision.accepted)) {
      return { decisions, ratedDecisions, outcome: "nothing-to-do" as const, reasons: ["the council accepted no rewrite"] };
    }
    return { decisions, ratedDecisions };
  };

  /** Verified-memory candidates from what the vote accepted, through their own gate; released here when no adapter will carry them. */
  const verify = async (state: ImproveState) => {
    await enter("verify", state);
    const trainable = adapterChannel && state.decisions.some((decision) => decision.accepted);
    if (!memoryChannel) return trainable ? {} : { outcome: "nothing-to-do" as const, reasons: ["the council accepted no rewrite to train on, and verified memory is off"] };
    const gatePath = join(runDir(state), "memory-gate.json");
    let gate: MemoryGateReport;
    if (existsSync(gatePath)) gate = JSON.parse(await readFile(gatePath, "utf8")) as MemoryGateReport;
    else {
      const entries = verifiedCandidates({ runId: state.runId, items: [...state.harvested, ...state.rated], candidates: state.candidates, decisions: [...state.decisions, ...state.ratedDecisions] });
      const accepted = (await store.accepted()).map((row) => row.example);
      gate = await memoryGate({
        entries,
        suites: { holdout: ports.evalSets.holdout, regression: await regressionCases(ports, accepted), safety: ports.evalSets.safety },
        similarity: (a, b) => ports.verified!.similarity(a, b),
        reuseThreshold,
      });
      await writeFile(gatePath, JSON.stringify(gate, null, 2));
    }
    if (trainable) return { memoryGate: gate };
    const memoryRelease = await releaseMemoryOnly({ ...state, memoryGate: gate });
    return { memoryGate: gate, memoryRelease, outcome: "memory-only" as const, reasons: [`released ${memoryRelease?.released ?? 0} verified entr(ies) without an adapter (${adapterChannel ? "no rewrite to train on" : "adapter channel off"})`] };
  };

  const dataset = async (state: ImproveState) => {
    await enter("dataset", state);
    const tonight = await acceptedExamples({ ...state, ports });
    await store.appendAccepted(state.runId, tonight);
    // Cumulative: every night's accepted examples, newest answer winning for a repeated question.
    const all = (await store.accepted()).map((row) => row.example).reverse();
    const replay = replayRatio > 0 ? await replayExamples({ ...state, ports }) : [];
    const outDir = join(runDir(state), "dataset");
    // A resumed night finds its dataset already built: read once, with the one manifest schema.
    const datasetInfo = existsSync(join(outDir, "manifest.json"))
      ? await readNightlyDataset(outDir)
      : nightlyDataset(outDir, await buildDataset({ accepted: all, replay, replayRatio, evalSets: [{ name: "holdout", items: ports.evalSets.holdout }], outDir, maxPerUserPerDay: Number.MAX_SAFE_INTEGER, maxUserShare: 1, overwrite: true }));
    const dropped = await droppedIds(outDir);
    // The exact examples in the files, by id, with the turns they came from (`council audit <version>` follows them).
    const examples = [...all, ...replay].filter((example) => !dropped.has(example.id)).map((example) => ({ id: example.id, traceIds: example.traceIds }));
    await emit("dataset-built", { runId: state.runId, sha256: datasetInfo.sha256, dir: outDir, examples, tonight: tonight.map((example) => example.id) });
    return { datasetInfo };
  };

  const train = async (state: ImproveState) => {
    await enter("train", state);
    const outDir = join(runDir(state), "adapter");
    const adapterPath = join(outDir, "adapter.gguf");
    const scope = () => scopeNightAdapter({ ports, store, datasetDir: state.datasetInfo!.dir, adapterPath });
    if (existsSync(adapterPath) && existsSync(join(outDir, "training.json"))) {
      await scope(); // a night stopped between training and scoping resumes here
      return { training: { adapterDir: outDir, adapterPath, datasetSha256: state.datasetInfo!.sha256, seconds: 0, finalLoss: null, skipped: true } };
    }
    const started = performance.now();
    const end = metrics?.trainingDuration.startTimer();
    const { finalLoss } = await ports.train({ dataset: state.datasetInfo!, outDir });
    end?.();
    await scope();
    if (finalLoss !== null) metrics?.trainingLoss.set(finalLoss);
    const seconds = (performance.now() - started) / 1000;
    await emit("training-finished", { runId: state.runId, datasetSha256: state.datasetInfo!.sha256, adapterDir: outDir, seconds, finalLoss });
    return { training: { adapterDir: outDir, adapterPath, datasetSha256: state.datasetInfo!.sha256, seconds, finalLoss, skipped: false } };
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
        ...(options.maxCostRatio === undefined ? {} : { maxCostRatio: options.maxCostRatio }),
        ...(options.satisfaction === undefined ? {} : { satisfaction: options.satisfaction }),
        probePrompts: ports.probePrompts,
        ...(ports.adapterInScope ? { inScope: ports.adapterInScope.bind(ports) } : {}),
      });
      report.current = servingPath ?? (currentPath === null ? "base model" : "base model, through a zero-B twin of the candidate");
      await writeFile(gatePath, JSON.stringify(report, null, 2));
    }
    for (const suite of report.suites) metrics?.evalScore.set({ suite: suite.suite }, suite.successCandidate);
    await emit("gate-judged", { runId: state.runId, passed: report.passed, reasons: report.reasons, current: report.current, suites: report.suites.map(({ suite, total, successCandidate, successCurrent }) => ({ suite, total, successCandidate, successCurrent })), ...(report.metrics ? { metrics: report.metrics } : {}) });
    for (const verdict of report.metrics ?? []) metrics?.gateMetricPassed.set({ metric: verdict.metric }, verdict.passed === null ? -1 : verdict.passed ? 1 : 0);
    if (!report.passed) {
      const memoryRelease = await releaseMemoryOnly(state);
      const released = memoryRelease?.released ?? 0;
      await writeFile(gatePath, JSON.stringify({ ...report, released: { adapter: false, memory: released > 0, entries: released } }, null, 2));
      return { gateReport: report, memoryRelease, outcome: "gate-failed" as const, reasons: [...report.reasons, ...(memoryChannel ? [`verified memory: released ${released} entr(ies) on their own gate`] : [])] };
    }
    return { gateReport: report };
  };

  const approve = async (state: ImproveState) => {
    await enter("approve", state);
    if (policy === "auto") {
      await emit("approval-decided", { runId: state.runId, decision: "approve", policy });
      return { approval: "approved" as const };
    }
    const answer = approvalSchema.parse(interrupt({ runId: state.runId, question: "approve this adapter?", gate: state.gateReport }));
    const decision = typeof answer === "string" ? answer : answer.decision;
    const reason = typeof answer === "string" ? undefined : answer.reason;
    await emit("approval-decided", { runId: state.runId, decision, policy, ...(reason === undefined ? {} : { reason }) }, typeof answer === "string" ? "operator" : (answer.actor ?? "operator"));
    if (decision === "reject") {
      const memoryRelease = await releaseMemoryOnly(state);
      return { approval: "rejected" as const, memoryRelease, outcome: "rejected" as const, reasons: [typeof answer === "string" ? "rejected by operator" : (answer.reason ?? "rejected by operator")] };
    }
    return { approval: "approved" as const };
  };

  const deploy = async (state: ImproveState) => {
    await enter("deploy", state);
    const { version } = await ports.publish({ adapterDir: state.training!.adapterDir, gate: state.gateReport! });
    metrics?.deployments.inc();
    await emit("adapter-deployed", { runId: state.runId, version, datasetSha256: state.training!.datasetSha256 });
    // The release is the adapter plus its verified entries: they enter the canary together.
    const gate = state.memoryGate;
    if (!memoryChannel || gate === null) return { version };
    const released = await writeRelease({ verified: ports.verified!, entries: gate.kept, release: version, status: "canary" });
    const memoryRelease: MemoryReleaseInfo = { ...releaseBase(gate), released, release: version, status: "canary" };
    await writeReleaseJson(state, memoryRelease, `adapter ${version} (canary)`);
    const gatePath = join(runDir(state), "gate.json");
    if (existsSync(gatePath)) await writeFile(gatePath, JSON.stringify({ ...state.gateReport, released: { adapter: true, memory: released > 0, entries: released } }, null, 2));
    return { version, memoryRelease };
  };

  const canary = async (state: ImproveState) => {
    await enter("canary", state);
    const result = await ports.canary({ version: state.version! });
    await writeFile(join(runDir(state), "canary-result.json"), JSON.stringify({ windows: [], ...result }, null, 2));
    await emit(result.outcome === "promoted" ? "adapter-promoted" : "adapter-rolled-back", { runId: state.runId, version: state.version!, reason: result.reason });
    // gate.json gets the canary's live verdicts (satisfaction is judged only there).
    const gatePath = join(runDir(state), "gate.json");
    if (existsSync(gatePath)) {
      const gated = withCanaryVerdicts(JSON.parse(await readFile(gatePath, "utf8")) as GateReport, result);
      await writeFile(gatePath, JSON.stringify(gated, null, 2));
      const satisfaction = gated.metrics?.find((verdict) => verdict.metric === "satisfaction");
      if (satisfaction !== undefined) metrics?.gateMetricPassed.set({ metric: "satisfaction" }, satisfaction.passed === null ? -1 : satisfaction.passed ? 1 : 0);
    }
    // Promoted together, rolled back together.
    let memoryRelease = state.memoryRelease;
    if (memoryChannel && memoryRelease !== null && memoryRelease.release === state.version) {
      const to = result.outcome === "promoted" ? ("active" as const) : ("withdrawn" as const);
      await ports.verified!.setReleaseStatus({ release: state.version!, to, note: result.reason });
      memoryRelease = { ...memoryRelease, status: to };
      await writeReleaseJson(state, memoryRelease, `adapter ${state.version} ${result.outcome}`);
    }
    return { outcome: result.outcome, reasons: [result.reason], memoryRelease };
  };

  const continueUnlessDone = (next: string) => (state: ImproveState) => (state.outcome === null ? next : END);

  return new StateGraph(ImproveStateAnnotation)
    .addNode("harvest", node("harvest", harvest))
    .addNode("rewrite", node("rewrite", rewrite))
    .addNode("vote", node("vote", vote))
    .addNode("verify", node("verify", verify))
    .addNode("dataset", node("dataset", dataset))
    .addNode("train", node("train", train))
    .addNode("gate", node("gate", gate))
    .addNode("approve", node("approve", approve))
    .addNode("deploy", node("deploy", deploy))
    .addNode("canary", node("canary", canary))
    .addEdge(START, "harvest")
    .addConditionalEdges("harvest", continueUnlessDone("rewrite"), ["rewrite", END])
    .addEdge("rewrite", "vote")
    .addConditionalEdges("vote", continueUnlessDone("verify"), ["verify", END])
    .addConditionalEdges("verify", continueUnlessDone("dataset"), ["dataset", END])
    .addEdge("dataset", "train")
    .addEdge("train", "gate")
    .addConditionalEdges("gate", continueUnlessDone("approve"), ["approve", END])
    .addConditionalEdges("approve", continueUnlessDone("deploy"), ["deploy", END])
    .addEdge("deploy", "canary")
    .addEdge("canary", END)
    .compile({ checkpointer });
}

export type ImproveGraph = ReturnType<typeof createImproveGraph>;
