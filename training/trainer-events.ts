import { z } from "zod";

/**
 * The progress protocol every trainer process speaks: one JSON object per stdout line.
 * native/lora-train (C++) and training/qlora/train_qlora.py both emit it.
 */
const finite = z.number().nullable().transform((value) => (value === null ? Number.NaN : value));

export const startEventSchema = z
  .object({
    event: z.literal("start"),
    examples: z.number().int().nonnegative(),
    steps: z.number().int().positive(),
    epochs: z.number().int().positive(),
    trainableParams: z.number().int().nonnegative(),
  })
  .passthrough();

export const stepEventSchema = z
  .object({ event: z.literal("step"), epoch: z.number().int().positive(), step: z.number().int().positive(), steps: z.number().int().positive(), loss: finite, tokensPerSecond: z.number().nonnegative() })
  .passthrough();

export const epochEventSchema = z
  .object({ event: z.literal("epoch"), epoch: z.number().int().positive(), epochs: z.number().int().positive(), loss: finite, seconds: z.number().nonnegative(), tokensPerSecond: z.number().nonnegative() })
  .passthrough();

export const doneEventSchema = z
  .object({
    event: z.literal("done"),
    adapter: z.string(),
    trainSeconds: z.number().nonnegative(),
    tokensPerSecond: z.number().nonnegative(),
    peakRssBytes: z.number().int().nonnegative(),
    trainableParams: z.number().int().nonnegative(),
    modelParams: z.number().int().nonnegative().optional(),
  })
  .passthrough();

/** Codes a trainer process may report; anything else becomes TRAINING_FAILED. */
export const TRAINER_ERROR_CODES = ["DATASET_INVALID", "MODEL_INVALID", "ADAPTER_MISMATCH", "DISK_FULL", "TRAINING_FAILED", "USAGE"] as const;

export const errorEventSchema = z.object({ event: z.literal("error"), code: z.string(), message: z.string() }).passthrough();

export const trainerEventSchema = z.discriminatedUnion("event", [startEventSchema, stepEventSchema, epochEventSchema, doneEventSchema, errorEventSchema]);

export type TrainerEvent = z.infer<typeof trainerEventSchema>;
export type StartEvent = z.infer<typeof startEventSchema>;
export type DoneEvent = z.infer<typeof doneEventSchema>;
export type EpochEvent = z.infer<typeof epochEventSchema>;
export type StepEvent = z.infer<typeof stepEventSchema>;
export type ErrorEvent = z.infer<typeof errorEventSchema>;
