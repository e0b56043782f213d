import { ANONYMOUS_ACTOR, type EventSink } from "./event-log-schema.js";
import type { Feedback, MemoryStore, TurnRecord } from "./types.js";

/**
 * A MemoryStore that appends every write to the event log after memory took it and before the caller hears
 * back: `turn-recorded` (the whole record), `feedback-given` or `correction-given` (a feedback with a
 * correction), `turn-success-set`. The actor is the turn's user (only the asker may rate a turn), else
 * `anonymous`. Payloads carry the record's `updatedAt`, so a rebuild reproduces memory exactly.
 */
export function withEventLog(memory: MemoryStore, events: EventSink): MemoryStore {
  const actorOf = (turn: TurnRecord) => turn.userId ?? ANONYMOUS_ACTOR;
  return {
    async record(turn: TurnRecord) {
      await memory.record(turn);
      await events.append({ actor: actorOf(turn), type: "turn-recorded", payload: { ...turn } });
    },
    get: (traceId) => memory.get(traceId),
    async setFeedback(traceId: string, feedback: Feedback) {
      const record = await memory.setFeedback(traceId, feedback);
      await events.append({
        actor: actorOf(record),
        type: feedback.correction === undefined ? "feedback-given" : "correction-given",
        payload: { traceId, userId: record.userId, feedback: { ...feedback }, updatedAt: record.updatedAt },
      });
      return record;
    },
    async setSuccess(traceId: string, success: boolean) {
      const record = await memory.setSuccess(traceId, success);
      await events.append({ actor: actorOf(record), type: "turn-success-set", payload: { traceId, userId: record.userId, success, updatedAt: record.updatedAt } });
      return record;
    },
    failures: (query) => memory.failures(query),
    turns: (query) => memory.turns(query),
    search: (query, options) => memory.search(query, options),
    counts: () => memory.counts(),
    dispose: () => memory.dispose(),
  };
}
