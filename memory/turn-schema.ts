import { z } from "zod";
import { CouncilError } from "../core/index.js";
import { FAILURE_CATEGORIES, type Feedback, type FailureQuery, type MemorySearchFilter, type TurnRecord } from "./types.js";

const unixMs = z.number().int().nonnegative();

export const feedbackSchema = z
  .object({
    rating: z.union([z.literal(1), z.literal(-1)]),
    comment: z.string().max(10_000).optional(),
    correction: z.string().max(100_000).optional(),
    anonymous: z.boolean().optional(),
    at: unixMs,
  })
  .strict();

/** A TurnRecord as memory accepts it (and as it validates rows read back from disk). */
export const turnRecordSchema = z
  .object({
    traceId: z.string().min(1).max(200),
    sessionId: z.string().max(200),
    userId: z.string().max(200).nullable(),
    question: z.string().max(100_000),
    answer: z.string().max(1_000_000),
    route: z.string().max(200),
    model: z.string().max(500),
    adapter: z.string().max(200).nullable(),
    score: z.number().min(0).max(1),
    category: z.enum(FAILURE_CATEGORIES).nullable(),
    reasons: z.array(z.string().max(10_000)).max(100),
    success: z.boolean(),
    feedback: feedbackSchema.nullable(),
    latencyMs: z.number().nonnegative().finite(),
    tokens: z.number().int().nonnegative(),
    createdAt: unixMs,
    updatedAt: unixMs,
  })
  .strict();

const failureQuerySchema = z
  .object({ since: unixMs.optional(), until: unixMs.optional(), limit: z.number().int().positive().optional() })
  .strict()
  .refine((query) => query.since === undefined || query.until === undefined || query.since <= query.until, "since must not be after until");

const filterSchema = z
  .object({ success: z.boolean().optional(), route: z.string().optional(), adapter: z.string().nullable().optional(), sessionId: z.string().optional() })
  .strict();

const searchOptionsSchema = z.object({ k: z.number().int().min(1).max(1000).optional(), filter: filterSchema.optional() }).strict();

function issueText(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join(".") || "(root)"}: ${issue.message}`;
}

export function parseTurn(turn: unknown): TurnRecord {
  const parsed = turnRecordSchema.safeParse(turn);
  if (!parsed.success) throw new CouncilError("FRAME_INVALID", `Invalid turn record: ${issueText(parsed.error)}`, { details: { issues: parsed.error.issues.slice(0, 5) } });
  return parsed.data as TurnRecord;
}

export function parseFeedback(feedback: unknown): Feedback {
  const parsed = feedbackSchema.safeParse(feedback);
  if (!parsed.success) throw new CouncilError("FRAME_INVALID", `Invalid feedback: ${issueText(parsed.error)}`);
  return parsed.data as Feedback;
}

export function parseFailureQuery(query: unknown = {}): FailureQuery {
  const parsed = failureQuerySchema.safeParse(query);
  if (!parsed.success) throw new CouncilError("MEMORY_QUERY_INVALID", `Invalid time query: ${issueText(parsed.error)}`);
  return parsed.data;
}

export function parseSearchOptions(options: unknown = {}): { k: number; filter: MemorySearchFilter } {
  const parsed = searchOptionsSchema.safeParse(options);
  if (!parsed.success) throw new CouncilError("MEMORY_QUERY_INVALID", `Invalid search options: ${issueText(parsed.error)}`);
  return { k: parsed.data.k ?? 5, filter: parsed.data.filter ?? {} };
}

export function parseQueryText(query: unknown): string {
  if (typeof query !== "string" || query.length > 100_000) throw new CouncilError("MEMORY_QUERY_INVALID", "A search query must be a string of at most 100000 characters");
  return query;
}

export function parseTraceId(traceId: unknown): string {
  if (typeof traceId !== "string" || traceId.length === 0 || traceId.length > 200) throw new CouncilError("MEMORY_QUERY_INVALID", "A trace id must be a non-empty string of at most 200 characters");
  return traceId;
}

/** Applies a feedback to a turn: the user's rating decides success (👎 → false, 👍 → true). */
export function withFeedback(turn: TurnRecord, feedback: Feedback, now: number): TurnRecord {
  return { ...turn, feedback, success: feedback.rating === 1, updatedAt: now };
}

/** A store's setFeedback as one validated update (FRAME_INVALID before anything is read or written). */
export function feedbackUpdate(feedback: unknown, now: number): (turn: TurnRecord) => TurnRecord {
  const valid = parseFeedback(feedback);
  return (turn) => withFeedback(turn, valid, now);
}

/** A store's setSuccess as one validated update (MEMORY_QUERY_INVALID before anything is read or written). */
export function successUpdate(success: unknown, now: number): (turn: TurnRecord) => TurnRecord {
  if (typeof success !== "boolean") throw new CouncilError("MEMORY_QUERY_INVALID", "success must be a boolean");
  return (turn) => ({ ...turn, success, updatedAt: now });
}

export function matchesFilter(turn: TurnRecord, filter: MemorySearchFilter): boolean {
  return (
    (filter.success === undefined || turn.success === filter.success) &&
    (filter.route === undefined || turn.route === filter.route) &&
    (filter.adapter === undefined || turn.adapter === filter.adapter) &&
    (filter.sessionId === undefined || turn.sessionId === filter.sessionId)
  );
}

/** The text of a turn that memory embeds: similar past turns are found by their question. */
export function turnEmbeddingText(turn: Pick<TurnRecord, "question">): string {
  return turn.question;
}

/**
 * Checks a vector before it reaches faiss-node (which aborts the process on bad input):
 * the right length, every value finite. Throws VECTOR_INVALID.
 */
export function checkVector(vector: ArrayLike<number>, dimensions: number): Float32Array {
  if (vector.length !== dimensions) throw new CouncilError("VECTOR_INVALID", `Expected a vector of ${dimensions} dimensions, got ${vector.length}`);
  const out = vector instanceof Float32Array ? vector : Float32Array.from(vector);
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i]!)) throw new CouncilError("VECTOR_INVALID", `Vector value ${i} is not finite (${out[i]})`);
  }
  return out;
}
