import { applyUserCaps, ContaminationIndex, normaliseText, scrubPii, type EvalSet, type FilterReport } from "../../training/datasets/index.js";
import type { MemoryStore, TurnRecord } from "../../memory/index.js";
import type { HarvestItem } from "./types.js";

export interface HarvestOptions {
  memory: MemoryStore;
  /** Unix ms, inclusive. */
  since: number;
  /** Unix ms, exclusive. */
  until: number;
  /** Turns scored below this count as failures even if flagged otherwise. */
  criticThreshold: number;
  evalSets: readonly EvalSet[];
  maxPerUserPerDay: number;
  maxUserShare: number;
  /** @default 10_000 */
  limit?: number;
  /** Whether corrections marked `anonymous` (no verified chat token) may be used. @default false */
  trainAnonymousCorrections?: boolean;
}

/** One failure a filter kept out of tonight's batch, and why (shown by `npx council harvest`). */
export interface DroppedItem {
  id: string;
  question: string;
  userId: string;
  /** Name of the filter, as in `filters`. */
  filter: string;
  reason: string;
  /** The user's correction, when the dropped turn had one. */
  correction?: string;
}

export interface HarvestResult {
  items: HarvestItem[];
  turns: number;
  filters: FilterReport[];
  /** Every item a filter dropped, with its reason. */
  dropped: DroppedItem[];
}

function isFailure(turn: TurnRecord, criticThreshold: number): boolean {
  return !turn.success || turn.feedback?.rating === -1 || turn.score < criticThreshold;
}

/**
 * Failures in [since, until) by flag and time (never similarity): success=false, 👎, or critic below threshold.
 * Grouped by normalised question (newest failed answer kept, every trace id listed), PII-scrubbed,
 * questions overlapping an eval set dropped, then per-user caps.
 */
export async function harvestFailures({ memory, since, until, criticThreshold, evalSets, maxPerUserPerDay, maxUserShare, limit = 10_000, trainAnonymousCorrections = false }: HarvestOptions): Promise<HarvestResult> {
  const turns = (await memory.turns({ since, until, limit })).filter((turn) => isFailure(turn, criticThreshold));
  const groups = new Map<string, TurnRecord[]>();
  for (const turn of turns) {
    const key = normaliseText(turn.question);
    if (key === "") continue;
    const group = groups.get(key);
    if (group) group.push(turn);
    else groups.set(key, [turn]);
  }

  const contamination = new ContaminationIndex({ evalSets });
  const evalOverlap: Array<{ item: HarvestItem; evalIds: string[] }> = [];
  const items: HarvestItem[] = [];
  for (const [key, group] of groups) {
    const newest = group.reduce((a, b) => (b.createdAt >= a.createdAt ? b : a));
    const corrected = [...group].reverse().find((turn) => turn.feedback?.correction && (trainAnonymousCorrections || !turn.feedback.anonymous));
    const item: HarvestItem = {
      id: `q-${hashKey(key)}`,
      question: scrubPii(newest.question).text,
      failedAnswer: scrubPii(newest.answer).text,
      traceIds: group.map((turn) => turn.traceId),
      userId: newest.userId ?? `session:${newest.sessionId}`,
      createdAt: newest.createdAt,
      category: newest.category,
      ...(corrected?.feedback?.correction ? { correction: scrubPii(corrected.feedback.correction).text } : {}),
    };
    const hits = contamination.check(item.id, [item.question]);
    if (hits.length > 0) evalOverlap.push({ item, evalIds: hits.map((hit) => `${hit.evalSet}/${hit.evalId}`) });
    else items.push(item);
  }
  items.sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
  const capped = applyUserCaps({ items, maxPerUserPerDay, maxUserShare });
  const shareUsers = new Set(capped.kept.concat(capped.droppedShare).map((item) => item.userId)).size;
  const dropped: DroppedItem[] = [
    ...evalOverlap.map(({ item, evalIds }) => droppedItem(item, "eval-overlap", `the question overlaps eval case(s) ${evalIds.slice(0, 5).join(", ")}; eval questions are never trained on`)),
    ...capped.droppedPerDay.map((item) => droppedItem(item, "per-user-per-day", `more than ${maxPerUserPerDay} failure(s) from ${item.userId} on ${new Date(item.createdAt).toISOString().slice(0, 10)} (COUNCIL_DATASET_MAX_PER_USER_DAY)`)),
    ...capped.droppedShare.map((item) => droppedItem(item, "per-user-share", `${item.userId} is above ${Math.round(maxUserShare * 100)} % of a batch from ${shareUsers} users (COUNCIL_DATASET_MAX_USER_SHARE)`)),
  ];
  const filters: FilterReport[] = [
    { name: "eval-overlap", dropped: evalOverlap.length, ids: evalOverlap.map(({ item }) => item.id) },
    { name: "per-user-per-day", dropped: capped.droppedPerDay.length, ids: capped.droppedPerDay.map((i) => i.id) },
    { name: "per-user-share", dropped: capped.droppedShare.length, ids: capped.droppedShare.map((i) => i.id) },
  ];
  return { items: capped.kept, turns: turns.length, filters, dropped };
}

function droppedItem(item: HarvestItem, filter: string, reason: string): DroppedItem {
  return { id: item.id, question: item.question, userId: item.userId, filter, reason, ...(item.correction ? { correction: item.correction } : {}) };
}

/** FNV-1a, 32-bit, as 8 hex digits: a short stable id for a normalised question. */
export function hashKey(text: string): string {
  // FNV-1a, 32-bit: a short stable id for a normalised question.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}
