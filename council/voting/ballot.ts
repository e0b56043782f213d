import { z } from "zod";

/** One council member's verdict on one candidate answer. Validated at the boundary (LLM output, files). */
export const ballotSchema = z
  .object({
    candidateId: z.string().min(1).max(200),
    voter: z.string().min(1).max(100),
    /** How good the candidate is, in [0, 1]. */
    score: z.number().finite().min(0).max(1),
    reason: z.string().max(2000),
  })
  .strict();

export type Ballot = z.infer<typeof ballotSchema>;
