import { z } from "zod";

/**
 * What the event log records (noun-action). Turns and feedback come from the chat path, the rest from the
 * nightly run, the review queue and the deploy commands. Payloads are plain JSON; `traceId`/`traceIds`,
 * `userId`, `runId` and `version` keys are what `council audit` and erasure look for.
 */
export const EVENT_TYPES = [
  "turn-recorded",
  "feedback-given",
  "correction-given",
  "turn-success-set",
  "vote-cast",
  "review-decided",
  "dataset-built",
  "training-finished",
  "gate-judged",
  "approval-decided",
  "adapter-deployed",
  "adapter-promoted",
  "adapter-rolled-back",
  "verified-added",
  "verified-demoted",
  "verified-release-changed",
  "user-erased",
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The actor of everything the nightly run does on its own. */
export const NIGHTLY_ACTOR = "nightly";
/** The actor of a turn (and its feedback) asked without a verified user id. */
export const ANONYMOUS_ACTOR = "anonymous";

export const councilEventSchema = z
  .object({
    id: z.string().min(1).max(200),
    /** Unix ms when the event was appended. */
    time: z.number().int().nonnegative(),
    /** A user id, an admin token name, `nightly`, or `anonymous`. */
    actor: z.string().min(1).max(200),
    type: z.enum(EVENT_TYPES),
    payload: z.record(z.unknown()),
  })
  .strict();
export type CouncilEvent = z.infer<typeof councilEventSchema>;

/** What a writer hands the log: id and time are the log's. */
export type EventInput = Pick<CouncilEvent, "actor" | "type" | "payload">;

/** The last line of a closed segment: sha256 (hex) of every byte before it, and how many events those are. */
export const segmentChecksumSchema = z.object({ checksum: z.string().regex(/^[0-9a-f]{64}$/), events: z.number().int().nonnegative() }).strict();
export type SegmentChecksum = z.infer<typeof segmentChecksumSchema>;

/** Where events go. `append` resolves once the event is on disk (fsynced): acknowledge the action only after it. */
export interface EventSink {
  append(event: EventInput): Promise<CouncilEvent>;
}
