import { hardChecks } from "../../agents/index.js";
import type { MemoryStore, TurnRecord, VerifiedEntryInput, VerifiedMemory, VerifiedSource } from "../../memory/index.js";
import { normaliseText, scrubPii, ContaminationIndex, type EvalSet } from "../../training/datasets/index.js";
import { hashKey } from "./harvest.js";
import { judgeAnswer } from "./judge.js";
import type { Candidate, EvalCase, HarvestItem, VoteDecision } from "./types.js";

/** Answers users rated 👍 in the window, one item per question (a 👍 alone verifies nothing: the council votes on each). */
export async function harvestRated({ memory, since, until, evalSets, limit = 10_000 }: { memory: MemoryStore; since: number; until: number; evalSets: readonly EvalSet[]; limit?: number }): Promise<HarvestItem[]> {
  const rated = (await memory.turns({ since, until, limit })).filter((turn) => turn.feedback?.rating === 1 && turn.success);
  const groups = new Map<string, TurnRecord[]>();
  for (const turn of rated) {
    const key = `${normaliseText(turn.question)}\u0000${normaliseText(turn.answer)}`;
    groups.set(key, [...(groups.get(key) ?? []), turn]);
  }
  const contamination = new ContaminationIndex({ evalSets });
  const items: HarvestItem[] = [];
  for (const [key, group] of groups) {
    const newest = group.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
    const item: HarvestItem = {
      id: `r-${hashKey(key)}`,
      question: scrubPii(newest.question).text,
      // The rated answer is the candidate; there is no failed answer.
      failedAnswer: "",
      traceIds: group.map((turn) => turn.traceId),
      userId: newest.userId ?? `session:${newest.sessionId}`,
      createdAt: newest.createdAt,
      category: null,
      ratedAnswer: scrubPii(newest.answer).text,
    };
    if (contamination.check(item.id, [item.question]).length === 0) items.push(item);
  }
  return items.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

const sourceOf = (candidate: Candidate): VerifiedSource => (candidate.source === "correction" ? "correction" : candidate.source === "rated" ? "rated" : "agent0");

/** What the vote accepted, as verified-entry candidates (before their own gate). */
export function verifiedCandidates({
  runId,
  items,
  candidates,
  decisions,
}: {
  runId: string;
  items: readonly HarvestItem[];
  candidates: readonly Candidate[];
  decisions: readonly VoteDecision[];
}): Array<Omit<VerifiedEntryInput, "release" | "status">> {
  const out: Array<Omit<VerifiedEntryInput, "release" | "status">> = [];
  for (const decision of decisions) {
    if (!decision.accepted || decision.winnerId === null) continue;
    const item = items.find((entry) => entry.id === decision.itemId);
    const winner = candidates.find((candidate) => candidate.id === decision.winnerId);
    if (item === undefined || winner === undefined) continue;
    out.push({
      question: item.question,
      answer: winner.text,
      source: sourceOf(winner),
      runId,
      voteScore: Math.max(0, Math.min(1, decision.winnerScore)),
      ballots: decision.ballots.filter((ballot) => ballot.candidateId === winner.id).map(({ voter, score, reason }) => ({ voter, score, reason })),
      traceIds: item.traceIds,
    });
  }
  return out;
}

export interface MemoryGateReport {
  /** Entries that passed their own gate, in input order. */
  kept: Array<Omit<VerifiedEntryInput, "release" | "status">>;
  dropped: Array<{ question: string; answer: string; reason: string }>;
  /** Cases checked per suite (those an entry would answer at the reuse threshold). */
  checked: { holdout: number; regression: number; safety: number };
}

/** What a release record says of the memory gate: how many candidates it saw and why each dropped one went. */
export const releaseBase = (gate: MemoryGateReport) => ({ candidates: gate.kept.length + gate.dropped.length, dropped: gate.dropped.map(({ question, reason }) => ({ question, reason })) });

/**
 * The verified entries' own gate, on the answers themselves: an entry must pass the critic's format/safety checks,
 * and every holdout, regression and safety case it would answer (question similarity ≥ the reuse threshold) must
 * pass with the entry's answer. A failing entry is dropped; the others can be released without the adapter.
 */
export async function memoryGate({
  entries,
  suites,
  similarity,
  reuseThreshold,
}: {
  entries: ReadonlyArray<Omit<VerifiedEntryInput, "release" | "status">>;
  suites: { holdout: readonly EvalCase[]; regression: readonly EvalCase[]; safety: readonly EvalCase[] };
  similarity: (a: string, b: string) => Promise<number>;
  reuseThreshold: number;
}): Promise<MemoryGateReport> {
  const report: MemoryGateReport = { kept: [], dropped: [], checked: { holdout: 0, regression: 0, safety: 0 } };
  for (const entry of entries) {
    const checks = hardChecks({ answer: entry.answer }).filter((check) => check.cap < 0.5);
    if (checks.length > 0) {
      report.dropped.push({ question: entry.question, answer: entry.answer, reason: checks.map((check) => `${check.category}: ${check.reason}`).join("; ") });
      continue;
    }
    let failure: string | undefined;
    for (const name of ["safety", "holdout", "regression"] as const) {
      for (const testCase of suites[name]) {
        // A safety case's reject patterns apply to every answer; the other suites only where the entry would answer.
        if (name === "safety") {
          if (testCase.reject === undefined) continue;
        } else if ((await similarity(entry.question, testCase.question)) < reuseThreshold) continue;
        report.checked[name] += 1;
        if (!judgeAnswer(name === "safety" ? { id: testCase.id, question: testCase.question, reject: testCase.reject! } : testCase, entry.answer)) {
          failure = `${name}: would answer "${testCase.question}" and fail it`;
          break;
        }
      }
      if (failure !== undefined) break;
    }
    if (failure === undefined) report.kept.push(entry);
    else report.dropped.push({ question: entry.question, answer: entry.answer, reason: failure });
  }
  return report;
}

/**
 * Writes a release's entries: `canary` with the adapter version (canary users see them, stable users do not), or
 * `active` for a memory-only release (`memory:<runId>`). Idempotent (entries are keyed by question + answer).
 */
export async function writeRelease({
  verified,
  entries,
  release,
  status,
}: {
  verified: VerifiedMemory;
  entries: ReadonlyArray<Omit<VerifiedEntryInput, "release" | "status">>;
  release: string;
  status: "canary" | "active";
}): Promise<number> {
  if (entries.length === 0) return 0;
  return (await verified.add(entries.map((entry) => ({ ...entry, release, status })))).length;
}
