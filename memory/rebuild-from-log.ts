import { z } from "zod";
import { CouncilError } from "../core/index.js";
import type { CouncilEvent } from "./event-log-schema.js";
import { parseFeedback, parseTurn } from "./turn-schema.js";
import type { MemoryStore } from "./types.js";
import { verifiedEntryInputSchema, type VerifiedMemory } from "./verified-memory.js";

export interface RebuildFromLogOptions {
  /** The log's events, oldest first (`EventLog.events()`). */
  events: readonly CouncilEvent[];
  /** Opens the empty memory to fill; its clock is the replayed events' times. */
  openMemory: (options: { now: () => number }) => Promise<MemoryStore>;
  /** Opens the empty verified memory to fill. Absent: verified events are skipped. */
  openVerified?: (options: { now: () => number }) => Promise<VerifiedMemory>;
}

export interface RebuildResult {
  memory: MemoryStore;
  verified: VerifiedMemory | undefined;
  /** Events replayed (the others are about the nightly run, not memory). */
  applied: number;
}

const successSchema = z.object({ traceId: z.string(), success: z.boolean(), updatedAt: z.number() });
const feedbackEventSchema = z.object({ traceId: z.string(), feedback: z.unknown(), updatedAt: z.number() });
const verifiedAddedSchema = z.object({ id: z.string(), at: z.number() }).passthrough();
const demotedSchema = z.object({ id: z.string(), note: z.string(), at: z.number() });
const releaseSchema = z.object({ release: z.string(), to: z.enum(["active", "withdrawn"]), note: z.string().optional(), at: z.number() });

/**
 * Rebuilds turn memory (and verified memory) from the event log into fresh stores, replaying each write at the
 * time it was made: the result equals the live memory for every turn and entry the log holds.
 */
export async function rebuildFromLog({ events, openMemory, openVerified }: RebuildFromLogOptions): Promise<RebuildResult> {
  let clock = 0;
  const now = () => clock;
  const memory = await openMemory({ now });
  const verified = openVerified ? await openVerified({ now }) : undefined;
  let applied = 0;
  const payload = <T>(schema: z.ZodType<T>, event: CouncilEvent): T => {
    const parsed = schema.safeParse(event.payload);
    if (!parsed.success) throw new CouncilError("EVENT_LOG_CORRUPT", `Event ${event.id} (${event.type}) has an invalid payload: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  };
  for (const event of events) {
    switch (event.type) {
      case "turn-recorded": {
        const turn = parseTurn(event.payload);
        clock = turn.updatedAt;
        await memory.record(turn);
        break;
      }
      case "feedback-given":
      case "correction-given": {
        const { traceId, feedback, updatedAt } = payload(feedbackEventSchema, event);
        clock = updatedAt;
        await memory.setFeedback(traceId, parseFeedback(feedback));
        break;
      }
      case "turn-success-set": {
        const { traceId, success, updatedAt } = payload(successSchema, event);
        clock = updatedAt;
        await memory.setSuccess(traceId, success);
        break;
      }
      case "verified-added": {
        if (!verified) continue;
        const { id: _id, at, ...input } = payload(verifiedAddedSchema, event);
        clock = at;
        await verified.add([verifiedEntryInputSchema.parse(input)]);
        break;
      }
      case "verified-demoted": {
        if (!verified) continue;
        const { id, note, at } = payload(demotedSchema, event);
        clock = at;
        await verified.demote({ id, note });
        break;
      }
      case "verified-release-changed": {
        if (!verified) continue;
        const { release, to, note, at } = payload(releaseSchema, event);
        clock = at;
        await verified.setReleaseStatus({ release, to, ...(note === undefined ? {} : { note }) });
        break;
      }
      default:
        continue;
    }
    applied += 1;
  }
  return { memory, verified, applied };
}
