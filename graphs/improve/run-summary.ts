import { z } from "zod";

/** `<runs>/<runId>/summary.json`: how a night ended. */
export const runSummarySchema = z.object({
  runId: z.string(),
  since: z.number(),
  until: z.number(),
  outcome: z.enum(["promoted", "rolled-back", "gate-failed", "nothing-to-do", "rejected", "awaiting-approval", "failed", "memory-only"]),
  reasons: z.array(z.string()),
  harvested: z.number(),
  accepted: z.number(),
  datasetExamples: z.number(),
  trainingSeconds: z.number(),
  finalLoss: z.number().nullable(),
  version: z.string().nullable(),
  suites: z.array(z.object({ suite: z.string(), total: z.number(), successCandidate: z.number(), successCurrent: z.number(), passed: z.boolean(), reason: z.string() })),
  endedAt: z.number(),
  /** Verified memory released tonight (absent in runs before verified memory). */
  memory: z
    .object({
      candidates: z.number(),
      released: z.number(),
      dropped: z.array(z.object({ question: z.string(), reason: z.string() })),
      release: z.string().nullable(),
      status: z.enum(["canary", "active", "withdrawn"]).nullable(),
    })
    .nullable()
    .optional(),
});
export type RunSummary = z.infer<typeof runSummarySchema>;
