import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Command } from "@langchain/langgraph";
import { CouncilError, silentLogger, type CouncilMetrics, type Logger } from "../../core/index.js";
import { FileRunRecords, type RunRecords, type RunReport } from "../../cron/index.js";
import type { ImproveGraph, ImproveState } from "./improve-graph.js";
import type { ImproveStore } from "./improve-store.js";
import { writeRunReport } from "./morning-report.js";
import type { HarvestRecord } from "./run-folder.js";
import type { RunOutcome } from "./types.js";
import { runSummarySchema, type RunSummary } from "./run-summary.js";

export { runSummarySchema, type RunSummary } from "./run-summary.js";

export interface NightlyOptions {
  graph: ImproveGraph;
  store: ImproveStore;
  runsDir: string;
  /** Where the run's record goes when it starts, resumes and ends (replicas sharing Postgres all see it). @default the run folders under `runsDir` */
  records?: RunRecords;
  metrics?: CouncilMetrics;
  /** Logs a morning report that could not be written (the run still succeeds). @default silent */
  logger?: Logger;
  now?: () => number;
  generateRunId?: (now: number) => string;
}

const defaultRunId = (now: number) => `run-${new Date(now).toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${Math.random().toString(36).slice(2, 6)}`;

/**
 * Runs one night: resumes the unfinished run if there is one (killed or waiting for approval), otherwise starts
 * a run over the failures since the last finished run. Returns when the run ends or pauses for approval.
 */
export async function runNightly({ graph, store, runsDir, records = new FileRunRecords({ runsDir }), metrics, logger, now = Date.now, generateRunId = defaultRunId }: NightlyOptions): Promise<RunSummary> {
  const state = await store.state();
  let runId = state.activeRunId;
  if (runId === null) {
    runId = generateRunId(now());
    const until = now();
    await store.saveState({ lastUntil: state.lastUntil, activeRunId: runId });
    await records.start({ runId, at: until });
    await graph.invoke({ runId, since: state.lastUntil, until }, threadConfig(runId));
  } else {
    await records.start({ runId, at: now() });
    await graph.invoke(null, threadConfig(runId));
  }
  return finish({ graph, store, runsDir, records, metrics, logger, now, runId });
}

/** Resumes a run paused at the approval step with the operator's decision. */
export async function resolveApproval({ graph, store, runsDir, records = new FileRunRecords({ runsDir }), metrics, logger, now = Date.now, runId, decision, reason, actor }: NightlyOptions & { runId: string; decision: "approve" | "reject"; reason?: string; actor?: string }): Promise<RunSummary> {
  const snapshot = await graph.getState(threadConfig(runId));
  if (!snapshot.values || Object.keys(snapshot.values as object).length === 0) throw new CouncilError("RUN_NOT_FOUND", `No improvement run ${runId}.`);
  if (!isWaitingForApproval(snapshot)) throw new CouncilError("RUN_NOT_FOUND", `Run ${runId} is not waiting for approval.`);
  await records.start({ runId, at: now() });
  await graph.invoke(new Command({ resume: { decision, ...(reason ? { reason } : {}), ...(actor ? { actor } : {}) } }), threadConfig(runId));
  return finish({ graph, store, runsDir, records, metrics, logger, now, runId });
}

function threadConfig(runId: string) {
  return { configurable: { thread_id: runId }, recursionLimit: 50 };
}

function isWaitingForApproval(snapshot: Awaited<ReturnType<ImproveGraph["getState"]>>): boolean {
  return snapshot.tasks.some((task) => (task.interrupts?.length ?? 0) > 0);
}

async function finish({ graph, store, runsDir, records, metrics, logger = silentLogger, now, runId }: Required<Pick<NightlyOptions, "now" | "records">> & Omit<NightlyOptions, "now" | "generateRunId" | "records"> & { runId: string }): Promise<RunSummary> {
  const snapshot = await graph.getState(threadConfig(runId));
  const values = snapshot.values as ImproveState;
  const waiting = isWaitingForApproval(snapshot);
  const outcome: RunOutcome = waiting ? "awaiting-approval" : (values.outcome ?? "failed");
  const summary: RunSummary = {
    runId,
    since: values.since,
    until: values.until,
    outcome,
    reasons: waiting ? ["waiting for `council approve " + runId + "`"] : values.reasons,
    harvested: values.harvested.length,
    accepted: values.decisions.filter((d) => d.accepted).length,
    datasetExamples: values.datasetInfo?.examples ?? 0,
    trainingSeconds: values.training?.seconds ?? 0,
    finalLoss: values.training?.finalLoss ?? null,
    version: values.version,
    memory: values.memoryRelease ?? null,
    suites: (values.gateReport?.suites ?? []).map(({ suite, total, successCandidate, successCurrent, passed, reason }) => ({ suite, total, successCandidate, successCurrent, passed, reason })),
    endedAt: now(),
  };
  await mkdir(join(runsDir, runId), { recursive: true });
  await writeFile(join(runsDir, runId, "summary.json"), JSON.stringify(summary, null, 2));
  const report = await writeMorningReport({ runDir: join(runsDir, runId), values, logger });
  // Before the harvest window moves: a failed write leaves the run active, and the next night ends it again.
  await records.end({ runId, at: summary.endedAt, status: waiting ? "awaiting-approval" : "finished", outcome, reasons: summary.reasons, summary, report });
  if (!waiting) {
    await store.saveState({ lastUntil: values.until, activeRunId: null });
    metrics?.improvementRuns.inc({ status: outcome });
    metrics?.improvementLastRun.set({ status: outcome }, summary.endedAt / 1000);
  }
  return summary;
}

/**
 * `harvest.json` and the morning report (`report.md`, `report.svg`); a failure here is logged and never fails the run.
 * @returns the report for the run record, or null when it was not written
 */
async function writeMorningReport({ runDir, values, logger }: { runDir: string; values: ImproveState; logger: Logger }): Promise<RunReport | null> {
  try {
    const harvest: HarvestRecord = {
      items: values.harvested.map((item) => ({ id: item.id, question: item.question, category: item.category, turns: item.traceIds.length, correction: item.correction !== undefined })),
      rated: values.rated.length,
      filters: values.harvestFilters.map(({ name, dropped }) => ({ name, dropped })),
    };
    await writeFile(join(runDir, "harvest.json"), JSON.stringify(harvest, null, 2));
    const { report, markdown } = await writeRunReport({ runDir });
    return { markdown, facts: { ...report } };
  } catch (error) {
    logger.error({ err: error, runDir }, "morning report not written");
    return null;
  }
}

/** Summaries of past runs that ended (finished or awaiting approval), newest first (`council status`, the admin API). */
export async function listRuns({ runsDir, records = new FileRunRecords({ runsDir }), limit = 10 }: { runsDir: string; records?: RunRecords; limit?: number }): Promise<RunSummary[]> {
  const summaries: RunSummary[] = [];
  for (const record of await records.list({ limit, ended: true })) {
    const parsed = runSummarySchema.safeParse(record.summary);
    if (parsed.success) summaries.push(parsed.data);
  }
  return summaries;
}
