import { shouldQueue, type ReviewedItem, type ReviewQueue } from "./review-queue.js";
import type { Candidate, HarvestItem, VoteDecision } from "./types.js";

export interface ReviewOptions {
  queue: ReviewQueue;
  /** A rejected vote whose winner scored at least this (unvetoed for safety) is queued (config.improve.voteReviewScore). */
  score: number;
}

/**
 * Harvest step: the reviews people accepted since the last night join tonight's items, pre-decided (the
 * rewrite and vote nodes take their candidate and decision as they are). A question harvested again tonight
 * is taken from the review: a person's decision outranks a new vote.
 */
export async function foldReviewed({ review, runId, items }: { review: ReviewOptions | undefined; runId: string; items: readonly HarvestItem[] }): Promise<{ harvested: HarvestItem[]; reviewed: ReviewedItem[] }> {
  if (review === undefined) return { harvested: [...items], reviewed: [] };
  const reviewed = await review.queue.takeDecided({ runId });
  const questions = new Set(reviewed.map((entry) => entry.item.question.trim().toLowerCase()));
  return { harvested: [...items.filter((item) => !questions.has(item.question.trim().toLowerCase())), ...reviewed.map((entry) => entry.item)], reviewed };
}

/** Vote step: queues tonight's rejected decisions whose winner landed between the reject and the accept bar. */
export async function queueForReview({ review, runId, items, candidates, decisions }: { review: ReviewOptions | undefined; runId: string; items: readonly HarvestItem[]; candidates: readonly Candidate[]; decisions: readonly VoteDecision[] }): Promise<number> {
  if (review === undefined) return 0;
  const entries = decisions
    .filter((decision) => shouldQueue(decision, review.score))
    .map((decision) => ({ item: items.find((item) => item.id === decision.itemId)!, candidates: candidates.filter((candidate) => candidate.itemId === decision.itemId), decision }))
    .filter((entry) => entry.item !== undefined);
  return (await review.queue.enqueue({ runId, entries })).length;
}
