import { CouncilError } from "../core/index.js";
import type { CouncilServices } from "./services.js";
import type { FeedbackFrame } from "./frames.js";
import type { ChatIdentity } from "./auth.js";

/** Who is rating: their identity, and which turns were asked on their connection. */
export interface Rater extends ChatIdentity {
  /** Whether this trace id was answered on the rater's own connection (always false over HTTP). */
  askedHere: (traceId: string) => boolean;
}

/**
 * Applies a rating to a recorded turn, only from whoever asked it: a turn with a user id only from that
 * user, an anonymous turn only on the connection that asked it (never over HTTP). Anyone else gets
 * FORBIDDEN and nothing changes in memory. Feedback from a rater without a verified chat token is marked
 * `anonymous`, so the nightly harvest leaves its correction out of training unless configured otherwise.
 */
export async function applyFeedback({ runtime }: Pick<CouncilServices, "runtime">, { frame, rater }: { frame: Omit<FeedbackFrame, "type">; rater: Rater }): Promise<void> {
  const record = await runtime.trace(frame.trace_id);
  if (record === undefined) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${frame.trace_id}.`);
  const owner = record.userId === null ? rater.userId === undefined && rater.askedHere(frame.trace_id) : record.userId === rater.userId;
  if (!owner) {
    throw new CouncilError(
      "FORBIDDEN",
      record.userId === null
        ? "Only the connection that asked this question may rate it; ask again and rate the new answer."
        : "Only the user who asked this question may rate it; send that user's chat token.",
    );
  }
  // The runtime counts council_feedback_total (it knows the adapter); the server does not count twice.
  await runtime.feedback({
    traceId: frame.trace_id,
    rating: frame.rating,
    ...(frame.comment !== undefined ? { comment: frame.comment } : {}),
    ...(frame.correction !== undefined ? { correction: frame.correction } : {}),
    ...(rater.verified ? {} : { anonymous: true }),
  });
}
