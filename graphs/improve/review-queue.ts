import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { appendFile, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { CouncilError, dataPaths, safeParseJson, type CouncilConfig } from "../../core/index.js";
import type { EventSink } from "../../memory/index.js";
import type { Ballot, Candidate, HarvestItem, VoteDecision } from "./types.js";

const ballotSchema = z.object({ candidateId: z.string(), voter: z.string(), score: z.number(), reason: z.string() });
const candidateSchema = z.object({ id: z.string(), itemId: z.string(), text: z.string(), source: z.enum(["llm", "knowledge-base", "correction", "rated"]) });
const harvestItemSchema = z.object({
  id: z.string(),
  question: z.string(),
  failedAnswer: z.string(),
  traceIds: z.array(z.string()),
  userId: z.string(),
  createdAt: z.number(),
  category: z.string().nullable(),
  correction: z.string().optional(),
  ratedAnswer: z.string().optional(),
});

export const reviewDecisionSchema = z.object({
  actor: z.string().min(1).max(100),
  at: z.number(),
  choice: z.enum(["accept", "reject"]),
  candidateId: z.string().optional(),
  editedText: z.string().min(1).max(8000).optional(),
});
export type ReviewDecision = z.infer<typeof reviewDecisionSchema>;

const eventSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("review-queued"),
    at: z.number(),
    id: z.string(),
    runId: z.string(),
    item: harvestItemSchema,
    candidates: z.array(candidateSchema),
    ballots: z.array(ballotSchema),
    winnerId: z.string(),
    winnerScore: z.number(),
    reason: z.string(),
  }),
  z.object({ type: z.literal("review-decided"), id: z.string(), decision: reviewDecisionSchema, ballot: ballotSchema }),
  z.object({ type: z.literal("review-consumed"), at: z.number(), id: z.string(), runId: z.string() }),
]);
type ReviewEvent = z.infer<typeof eventSchema>;

/** One vote that landed between the reject and the accept bar, waiting for (or carrying) a person's decision. */
export interface ReviewItem {
  id: string;
  runId: string;
  itemId: string;
  question: string;
  failedAnswer: string;
  item: HarvestItem;
  candidates: Candidate[];
  /** The council's ballots, plus the reviewer's once decided. */
  ballots: Ballot[];
  winnerId: string;
  winnerScore: number;
  /** Why the council did not accept it. */
  reason: string;
  queuedAt: number;
  status: "pending" | "accepted" | "rejected";
  decision: ReviewDecision | null;
  /** The run that folded the accepted decision into its training set and verified memory. */
  consumedBy: string | null;
}

/** What a folded-in review gives the night: the item, the reviewer's chosen (or edited) answer, and its decision. */
export interface ReviewedItem {
  item: HarvestItem;
  candidate: Candidate;
  decision: VoteDecision;
}

/** Ballot reasons that mark a safety veto: such a candidate is never offered to a person for acceptance. */
const SAFETY_VETO = /\b(unsafe|dangerous|safety|harmful|destructive)\b/i;
const VETO_SCORE = 0.25;

/**
 * Whether a vote goes to the review queue: rejected, with a winner scoring at least `reviewScore`, and no ballot
 * on the winner vetoing it for safety.
 */
export function shouldQueue(decision: VoteDecision, reviewScore: number): boolean {
  if (decision.accepted || decision.winnerId === null || decision.winnerScore < reviewScore) return false;
  return !decision.ballots.some((ballot) => ballot.candidateId === decision.winnerId && ballot.score < VETO_SCORE && SAFETY_VETO.test(ballot.reason));
}

/** `<dataDir>/data/improve/review-queue.jsonl`: the queue the night, `council review` and the admin API share. */
export const reviewQueuePath = (config: CouncilConfig): string => join(dataPaths(config).root, "data", "improve", "review-queue.jsonl");

const queueId = (runId: string, itemId: string) => `rv-${createHash("sha256").update(`${runId}\u0000${itemId}`).digest("hex").slice(0, 12)}`;

/**
 * The review queue: an append-only JSONL event log (`review-queued`, `review-decided`, `review-consumed`) under
 * `<dataDir>/data/improve/review-queue.jsonl`. Items are the fold of their events, so every decision keeps its
 * actor and time, and the nightly run, the CLI and the server can share the file.
 */
export class ReviewQueue {
  readonly path: string;
  readonly #now: () => number;
  readonly #events: EventSink | undefined;

  /** @param events the event log: each decision is appended to it (actor = the reviewer) before `decide` resolves. */
  constructor({ path, now = Date.now, events }: { path: string; now?: () => number; events?: EventSink }) {
    this.path = path;
    this.#now = now;
    this.#events = events;
  }

  async #read(): Promise<ReviewEvent[]> {
    if (!existsSync(this.path)) return [];
    const events: ReviewEvent[] = [];
    for (const line of (await readFile(this.path, "utf8")).split("\n")) {
      if (line.trim() === "") continue;
      const parsed = safeParseJson(line, eventSchema, "MEMORY_CORRUPT");
      if (!parsed.success) throw parsed.error;
      events.push(parsed.value);
    }
    return events;
  }

  async #append(events: readonly ReviewEvent[]): Promise<void> {
    if (events.length === 0) return;
    await mkdir(dirname(this.path), { recursive: true });
    await appendFile(this.path, events.map((event) => JSON.stringify(event) + "\n").join(""));
  }

  /** Every item, oldest first. */
  async items(): Promise<ReviewItem[]> {
    const byId = new Map<string, ReviewItem>();
    for (const event of await this.#read()) {
      if (event.type === "review-queued") {
        if (byId.has(event.id)) continue;
        const item = event.item as HarvestItem;
        byId.set(event.id, { id: event.id, runId: event.runId, itemId: item.id, question: item.question, failedAnswer: item.failedAnswer, item, candidates: event.candidates, ballots: event.ballots, winnerId: event.winnerId, winnerScore: event.winnerScore, reason: event.reason, queuedAt: event.at, status: "pending", decision: null, consumedBy: null });
        continue;
      }
      const target = byId.get(event.id);
      if (target === undefined) continue;
      if (event.type === "review-decided") {
        target.status = event.decision.choice === "accept" ? "accepted" : "rejected";
        target.decision = event.decision;
        target.ballots = [...target.ballots.filter((ballot) => !ballot.voter.startsWith("reviewer:")), event.ballot];
      } else target.consumedBy ??= event.runId;
    }
    return [...byId.values()];
  }

  async pending(): Promise<ReviewItem[]> {
    return (await this.items()).filter((item) => item.status === "pending");
  }

  /** Queues tonight's between-the-bars votes; idempotent per (run, item), so a resumed vote node queues nothing twice. */
  async enqueue({ runId, entries }: { runId: string; entries: ReadonlyArray<{ item: HarvestItem; candidates: Candidate[]; decision: VoteDecision }> }): Promise<ReviewItem[]> {
    const known = new Set((await this.items()).map((item) => item.id));
    const events: ReviewEvent[] = [];
    for (const { item, candidates, decision } of entries) {
      const id = queueId(runId, item.id);
      if (known.has(id) || decision.winnerId === null) continue;
      known.add(id);
      events.push({ type: "review-queued", at: this.#now(), id, runId, item, candidates, ballots: decision.ballots, winnerId: decision.winnerId, winnerScore: decision.winnerScore, reason: decision.reason });
    }
    await this.#append(events);
    const ids = new Set(events.map((event) => event.id));
    return (await this.items()).filter((item) => ids.has(item.id));
  }

  /**
   * Records a person's decision as an event and as a ballot `reviewer:<actor>` (1 accept, 0 reject). Accepting
   * takes the candidate named, else the council's winner; `editedText` replaces the answer. A decided item
   * can be decided again until a night has used it.
   */
  async decide({ id, actor, choice, candidateId, editedText }: { id: string; actor: string; choice: "accept" | "reject"; candidateId?: string; editedText?: string }): Promise<ReviewItem> {
    const item = (await this.items()).find((candidate) => candidate.id === id);
    if (item === undefined) throw new CouncilError("REVIEW_NOT_FOUND", `No review item ${id}; list them with: npx council review --list`);
    if (item.consumedBy !== null) throw new CouncilError("REVIEW_NOT_FOUND", `Review item ${id} was already used by run ${item.consumedBy}; it cannot change now.`);
    const chosen = choice === "accept" ? (candidateId ?? item.winnerId) : undefined;
    if (chosen !== undefined && !item.candidates.some((candidate) => candidate.id === chosen)) {
      throw new CouncilError("FRAME_INVALID", `Review item ${id} has no candidate ${chosen} (candidates: ${item.candidates.map((candidate) => candidate.id).join(", ")}).`);
    }
    const parsed = reviewDecisionSchema.safeParse({ actor, at: this.#now(), choice, ...(chosen !== undefined ? { candidateId: chosen } : {}), ...(choice === "accept" && editedText !== undefined ? { editedText: editedText.trim() } : {}) });
    if (!parsed.success) throw new CouncilError("FRAME_INVALID", `Invalid review decision: ${parsed.error.issues[0]?.path.join(".") || "(root)"}: ${parsed.error.issues[0]?.message}`);
    const decision = parsed.data;
    const reason = choice === "reject" ? `rejected by ${actor} in review` : editedText !== undefined ? `accepted by ${actor} in review, with an edited answer` : `accepted by ${actor} in review`;
    const ballot: Ballot = { candidateId: chosen ?? item.winnerId, voter: `reviewer:${actor}`, score: choice === "accept" ? 1 : 0, reason };
    await this.#append([{ type: "review-decided", id, decision, ballot }]);
    await this.#events?.append({
      actor,
      type: "review-decided",
      payload: { reviewId: id, runId: item.runId, itemId: item.itemId, traceIds: item.item.traceIds, userId: item.item.userId, choice, ...(chosen !== undefined ? { candidateId: chosen } : {}), edited: decision.editedText !== undefined, ballot },
    });
    return (await this.items()).find((candidate) => candidate.id === id)!;
  }

  /**
   * The accepted reviews a night folds in: not yet used, or used by this same run (so a resumed harvest gets the
   * same set). Marks them used by `runId`. Rejected reviews are never returned: they are dropped.
   */
  async takeDecided({ runId }: { runId: string }): Promise<ReviewedItem[]> {
    const mine = (await this.items()).filter((item) => item.status === "accepted" && (item.consumedBy === null || item.consumedBy === runId));
    await this.#append(mine.filter((item) => item.consumedBy === null).map((item) => ({ type: "review-consumed" as const, at: this.#now(), id: item.id, runId })));
    return mine.map(reviewedItem);
  }
}

/** A decided review as the night sees it: a harvest item (id = the review id) with one candidate and an accepted decision. */
function reviewedItem(review: ReviewItem): ReviewedItem {
  const decision = review.decision!;
  const base = review.candidates.find((candidate) => candidate.id === decision.candidateId) ?? review.candidates.find((candidate) => candidate.id === review.winnerId)!;
  const candidateId = `${review.id}:${decision.editedText !== undefined ? "edited" : base.id}`;
  const candidate: Candidate = { id: candidateId, itemId: review.id, text: decision.editedText ?? base.text, source: base.source };
  const ballots = review.ballots.map((ballot) => (ballot.voter.startsWith("reviewer:") ? { ...ballot, candidateId } : ballot));
  return {
    item: { ...review.item, id: review.id },
    candidate,
    decision: { itemId: review.id, accepted: true, winnerId: candidateId, winnerScore: 1, ballots, reason: ballots.find((ballot) => ballot.voter.startsWith("reviewer:"))?.reason ?? "accepted in review" },
  };
}
