import { CouncilError } from "../core/index.js";
import type { CouncilEvent } from "./event-log-schema.js";

/** One training example of an adapter, back to the turns, feedback, votes, reviews and people behind it. */
export interface AuditExample {
  id: string;
  traceIds: string[];
  /** `turn-recorded` events of its source turns (erased ones are missing). */
  turns: CouncilEvent[];
  /** Feedback and corrections on those turns. */
  feedback: CouncilEvent[];
  /** Every night's ballots on those turns, and review decisions. */
  votes: CouncilEvent[];
  reviews: CouncilEvent[];
  /** Users, reviewers and operators who acted in this example's chain. */
  people: string[];
}

export type AuditReport =
  | { kind: "version"; id: string; runId: string | null; chain: CouncilEvent[]; examples: AuditExample[] }
  | { kind: "run"; id: string; chain: CouncilEvent[]; examples: AuditExample[] }
  | { kind: "trace"; id: string; chain: CouncilEvent[] };

const tracesOf = (event: CouncilEvent): string[] => {
  const { traceId, traceIds } = event.payload;
  const out = typeof traceId === "string" ? [traceId] : [];
  if (Array.isArray(traceIds)) out.push(...traceIds.filter((id): id is string => typeof id === "string"));
  return out;
};

const isType =
  (...types: CouncilEvent["type"][]) =>
  (event: CouncilEvent) =>
    types.includes(event.type);

function datasetExamples(event: CouncilEvent | undefined): Array<{ id: string; traceIds: string[] }> {
  const examples = event?.payload.examples;
  if (!Array.isArray(examples)) return [];
  return examples.filter((example): example is { id: string; traceIds: string[] } => typeof example?.id === "string" && Array.isArray(example.traceIds));
}

function auditExample(events: readonly CouncilEvent[], example: { id: string; traceIds: string[] }): AuditExample {
  const traces = new Set(example.traceIds);
  const about = events.filter((event) => tracesOf(event).some((id) => traces.has(id)));
  const turns = about.filter(isType("turn-recorded"));
  const feedback = about.filter(isType("feedback-given", "correction-given"));
  const votes = about.filter(isType("vote-cast"));
  const reviews = about.filter(isType("review-decided"));
  const people = [...new Set([...turns, ...feedback, ...reviews].map((event) => event.actor))];
  return { id: example.id, traceIds: example.traceIds, turns, feedback, votes, reviews, people };
}

/**
 * What `council audit <id>` prints, from the event log: for an adapter version, the run that made it, its
 * dataset's exact examples and each one's source turns, feedback, votes, reviews and people, plus gate,
 * approval, deploy, promotion and rollback; for a run id, the same for that run; for a trace id, every event
 * about that turn. Throws NOT_FOUND when the log does not know the id.
 */
export function auditChain(events: readonly CouncilEvent[], id: string): AuditReport {
  const versioned = events.filter((event) => event.payload.version === id);
  if (versioned.length > 0) {
    const runId = versioned.map((event) => event.payload.runId).find((value): value is string => typeof value === "string") ?? null;
    const chain = events.filter((event) => event.payload.version === id || (runId !== null && event.payload.runId === runId && !isType("vote-cast")(event)));
    const dataset = runId === null ? undefined : events.findLast((event) => event.type === "dataset-built" && event.payload.runId === runId);
    return { kind: "version", id, runId, chain, examples: datasetExamples(dataset).map((example) => auditExample(events, example)) };
  }
  const run = events.filter((event) => event.payload.runId === id);
  if (run.length > 0) {
    const dataset = run.findLast(isType("dataset-built"));
    return { kind: "run", id, chain: run, examples: datasetExamples(dataset).map((example) => auditExample(events, example)) };
  }
  const trace = events.filter((event) => tracesOf(event).includes(id) || datasetExamples(event).some((example) => example.traceIds.includes(id)));
  if (trace.length > 0) return { kind: "trace", id, chain: trace };
  throw new CouncilError("NOT_FOUND", `The event log knows no adapter version, run or trace ${id}.`, { details: { id } });
}

const when = (event: CouncilEvent) => new Date(event.time).toISOString().replace(/\.\d+Z$/, "Z");
const clip = (text: unknown, max = 80) => {
  const value = typeof text === "string" ? text.replace(/\s+/g, " ") : JSON.stringify(text);
  return value.length > max ? `${value.slice(0, max - 1)}…` : value;
};

/** One line per event: time, actor, type, and what matters of the payload. */
export function describeEvent(event: CouncilEvent): string {
  const p = event.payload;
  const detail = (() => {
    switch (event.type) {
      case "turn-recorded":
        return `trace ${p.traceId} "${clip(p.question)}" → "${clip(p.answer, 60)}" (success ${p.success})`;
      case "feedback-given":
      case "correction-given": {
        const feedback = (p.feedback ?? {}) as { rating?: number; correction?: string };
        return `trace ${p.traceId} ${feedback.rating === 1 ? "👍" : "👎"}${feedback.correction ? ` correction "${clip(feedback.correction)}"` : ""}`;
      }
      case "vote-cast": {
        const ballots = Array.isArray(p.ballots) ? (p.ballots as Array<{ voter: string; score: number }>).map((b) => `${b.voter} ${Number(b.score).toFixed(2)}`).join(", ") : "";
        return `run ${p.runId} item ${p.itemId}: ${p.accepted ? "accepted" : "rejected"} ${Number(p.winnerScore).toFixed(2)} (${ballots || "no ballots"}) ${clip(p.reason, 60)}`;
      }
      case "review-decided":
        return `review ${p.reviewId} (run ${p.runId}): ${p.choice}${p.edited ? ", edited" : ""}`;
      case "dataset-built":
        return `run ${p.runId}: dataset ${String(p.sha256).slice(0, 12)} with ${Array.isArray(p.examples) ? p.examples.length : "?"} example(s)`;
      case "training-finished":
        return `run ${p.runId}: trained in ${Number(p.seconds).toFixed(0)} s, final loss ${p.finalLoss ?? "n/a"}`;
      case "gate-judged":
        return `run ${p.runId}: gate ${p.passed ? "passed" : "failed"}${Array.isArray(p.reasons) && p.reasons.length > 0 ? ` (${clip(p.reasons.join("; "), 100)})` : ""}`;
      case "approval-decided":
        return `run ${p.runId}: ${p.decision} (policy ${p.policy})${p.reason ? ` "${clip(p.reason)}"` : ""}`;
      case "adapter-deployed":
      case "adapter-promoted":
      case "adapter-rolled-back":
        return `${p.version ?? "(none)"}${p.runId ? ` (run ${p.runId})` : ""}${p.mode ? ` ${p.mode}` : ""}${p.reason ? `: ${clip(p.reason, 80)}` : ""}`;
      case "user-erased":
        return `user ${p.userHash}: ${p.removed} event(s) removed`;
      default:
        return clip(p, 120);
    }
  })();
  return `${when(event)}  ${event.actor.padEnd(10)} ${event.type.padEnd(22)} ${detail}`;
}

/** The text `council audit` prints. */
export function formatAudit(report: AuditReport): string {
  const lines: string[] = [];
  if (report.kind === "trace") {
    lines.push(`trace ${report.id}: ${report.chain.length} event(s)`);
    for (const event of report.chain) lines.push(`  ${describeEvent(event)}`);
    return lines.join("\n");
  }
  lines.push(report.kind === "version" ? `adapter ${report.id}${report.runId ? ` (run ${report.runId})` : ""}` : `run ${report.id}`);
  for (const event of report.chain) lines.push(`  ${describeEvent(event)}`);
  lines.push(`trained on ${report.examples.length} example(s):`);
  for (const example of report.examples) {
    lines.push(`  example ${example.id}  people: ${example.people.join(", ") || "(erased or unknown)"}`);
    for (const event of [...example.turns, ...example.feedback, ...example.votes, ...example.reviews].sort((a, b) => a.time - b.time)) lines.push(`    ${describeEvent(event)}`);
    if (example.turns.length < example.traceIds.length) lines.push(`    (${example.traceIds.length - example.turns.length} source turn(s) not in the log: erased, past retention, or recorded before the log)`);
  }
  return lines.join("\n");
}
