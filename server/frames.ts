import { z } from "zod";
import { ERROR_CODES, type CouncilErrorCode } from "../core/index.js";

/** The council accepts questions and corrections up to this length. */
export const MAX_TEXT_CHARS = 4_000;

const requestId = z.string().min(1).max(128);
const traceId = z.string().min(1).max(200);

/** Client → server: ask a question. `session_id` defaults to one session per connection. */
export const chatFrameSchema = z
  .object({
    type: z.literal("chat"),
    id: requestId,
    session_id: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/, "use 1-128 letters, digits, '_', '.', ':' or '-'").optional(),
    text: z.string().max(MAX_TEXT_CHARS).refine((text) => text.trim().length > 0, "must not be empty"),
  })
  .strict();

/** Client → server (and the body of POST /feedback): rate an answer. */
export const feedbackFrameSchema = z
  .object({
    type: z.literal("feedback"),
    trace_id: traceId,
    rating: z.union([z.literal(1), z.literal(-1)]),
    comment: z.string().max(4_000).optional(),
    correction: z.string().max(MAX_TEXT_CHARS).optional(),
  })
  .strict();

export const clientFrameSchema = z.discriminatedUnion("type", [chatFrameSchema, feedbackFrameSchema]);

/** POST /feedback accepts the feedback frame with or without its `type`. */
export const feedbackBodySchema = feedbackFrameSchema.extend({ type: z.literal("feedback").optional() }).strict();

const errorCode = z.enum(Object.keys(ERROR_CODES) as [CouncilErrorCode, ...CouncilErrorCode[]]);

/**
 * Streamed text of the answer being drafted. A draft is not the answer: the `final` frame's `answer` replaces
 * everything streamed for that id (the council may revise the draft, answer from verified memory, or replace a
 * draft its critic failed with an honest fallback).
 */
export const tokenFrameSchema = z.object({ type: z.literal("token"), id: requestId, text: z.string() }).strict();

/** Where the final answer came from: the model (with `adapter`), a verified memory `entry`, or a knowledge-base fallback (`page`). */
export const answerSourceSchema = z
  .object({
    kind: z.enum(["model", "memory", "fallback"]),
    adapter: z.string().nullable(),
    entry: z.string().optional(),
    page: z.string().optional(),
  })
  .strict();
export const finalFrameSchema = z
  .object({
    type: z.literal("final"),
    id: requestId,
    trace_id: traceId,
    answer: z.string(),
    score: z.number(),
    success: z.boolean(),
    route: z.string(),
    adapter: z.string().nullable(),
    source: answerSourceSchema,
  })
  .strict();
export const feedbackAckFrameSchema = z.object({ type: z.literal("feedback-ack"), trace_id: traceId }).strict();
/** `retry_after_s`: on BUSY and RATE_LIMITED, seconds after which the same request is likely to be admitted. */
export const errorFrameSchema = z.object({ type: z.literal("error"), id: requestId.optional(), code: errorCode, message: z.string(), retry_after_s: z.number().int().positive().optional() }).strict();

/** Every frame the server sends (the CLI and tests parse with this). */
export const serverFrameSchema = z.discriminatedUnion("type", [tokenFrameSchema, finalFrameSchema, feedbackAckFrameSchema, errorFrameSchema]);

export type ChatFrame = z.infer<typeof chatFrameSchema>;
export type FeedbackFrame = z.infer<typeof feedbackFrameSchema>;
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
