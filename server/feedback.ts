import { CouncilError } from "../core/index.js";
import type { CouncilRuntime } from "../council/types.js";
import type { CouncilServices } from "./services.js";
import type { FeedbackFrame } from "./frames.js";

/**
 * Applies a rating from a user to a recorded turn. A turn recorded for another user answers
 * TRACE_NOT_FOUND, exactly like an unknown id, and nothing changes in memory.
 */
export async function applyFeedback(
  { runtime }: Pick<CouncilServices, "runtime">,
  { frame, userId }: { frame: Omit<FeedbackFrame, "type">; userId: string | undefined },
): Promise<void> {
  const record = await ownedTrace(runtime, frame.trace_id, userId);
  if (record === undefined) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${frame.trace_id}.`);
  // The runtime counts council_feedback_total (it knows the adapter); the server does not count twice.
  await runtime.feedback({
    traceId: frame.trace_id,
    rating: frame.rating,
    ...(frame.comment !== undefined ? { comment: frame.comment } : {}),
    ...(frame.correction !== undefined ? { correction: frame.correction } : {}),
  });
}

async function ownedTrace(runtime: CouncilRuntime, traceId: string, userId: string | undefined) {
  const record = await runtime.trace(traceId);
  if (record === undefined) return undefined;
  if (record.userId !== null && record.userId !== userId) return undefined;
  return record;
}
