import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AcceptedExample, FilterReport } from "../../training/datasets/index.js";
import type { ImproveStore } from "./improve-store.js";
import { regressionCases } from "./regression-cases.js";
import type { ImprovePorts } from "./ports.js";
import type { Candidate, HarvestItem, VoteDecision } from "./types.js";

/** Tonight's accepted rewrites as training examples: the failed answer's question in the answerer's prompt, the winner chosen, the failure rejected. */
export async function acceptedExamples({ runId, decisions, harvested, candidates, ports }: { runId: string; decisions: readonly VoteDecision[]; harvested: readonly HarvestItem[]; candidates: readonly Candidate[]; ports: Pick<ImprovePorts, "promptMessages"> }): Promise<AcceptedExample[]> {
  const examples: AcceptedExample[] = [];
  for (const decision of decisions.filter((d) => d.accepted)) {
    const item = harvested.find((i) => i.id === decision.itemId)!;
    const winner = candidates.find((c) => c.id === decision.winnerId)!;
    examples.push({ id: `${runId}:${item.id}`, traceIds: item.traceIds, userId: item.userId, createdAt: item.createdAt, question: item.question, messages: await ports.promptMessages(item.question), chosen: winner.text, rejected: item.failedAnswer });
  }
  return examples;
}

/** Tonight's verified passing answers (rated 👍, accepted by the vote), replayed beside the fixes; never stored as accepted rewrites. */
export async function replayExamples({ runId, ratedDecisions, rated, ports }: { runId: string; ratedDecisions: readonly VoteDecision[]; rated: readonly HarvestItem[]; ports: Pick<ImprovePorts, "promptMessages"> }): Promise<AcceptedExample[]> {
  const replay: AcceptedExample[] = [];
  for (const decision of ratedDecisions.filter((d) => d.accepted)) {
    const item = rated.find((i) => i.id === decision.itemId);
    if (item?.ratedAnswer === undefined) continue;
    replay.push({ id: `${runId}:${item.id}`, traceIds: item.traceIds, userId: item.userId, createdAt: item.createdAt, question: item.question, messages: await ports.promptMessages(item.question), chosen: item.ratedAnswer });
  }
  return replay;
}

/** Ids of the examples a built dataset's filters dropped (its manifest's filter report). */
export async function droppedIds(datasetDir: string): Promise<Set<string>> {
  const manifest = JSON.parse(await readFile(join(datasetDir, "manifest.json"), "utf8")) as { filters?: FilterReport[] };
  return new Set(manifest.filters?.flatMap((filter) => filter.ids) ?? []);
}

/**
 * Scopes the night's adapter to the questions it learned — every night's accepted examples that the dataset kept —
 * and keeps on the base model the questions that already passed (every regression-case turn).
 */
export async function scopeNightAdapter({ ports, store, datasetDir, adapterPath }: { ports: Pick<ImprovePorts, "scopeAdapter" | "memory">; store: Pick<ImproveStore, "accepted">; datasetDir: string; adapterPath: string }): Promise<void> {
  if (ports.scopeAdapter === undefined) return;
  const dropped = await droppedIds(datasetDir);
  const questions = (await store.accepted()).map((row) => row.example).filter((example) => !dropped.has(example.id)).map((example) => example.question);
  const keep = (await regressionCases(ports, [])).map((testCase) => testCase.question);
  if (questions.length > 0) await ports.scopeAdapter({ adapterPath, questions, keep });
}
