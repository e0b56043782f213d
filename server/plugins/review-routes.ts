import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { CouncilError } from "../../core/index.js";
import { ReviewQueue, reviewQueuePath } from "../../graphs/improve/index.js";

const decideBodySchema = z
  .object({
    decision: z.enum(["accept", "reject"]),
    /** With accept: the candidate's id (default: the council's best). */
    candidateId: z.string().min(1).max(200).optional(),
    /** With accept: an edited answer to train on instead of the candidate's text. */
    text: z.string().trim().min(1).max(8000).optional(),
  })
  .strict();
const reviewIdSchema = z.string().regex(/^rv-[0-9a-f]{12}$/, "not a review id");

/** The actor recorded for decisions taken through the admin API (the server has one admin token, no user names). */
export const ADMIN_ACTOR = "admin";

/**
 * Admin API of the review queue (`<dataDir>/data/improve/review-queue.jsonl`, shared with `council review` and
 * the nightly run): GET /api/review (pending items; `?all=1` for decided ones too) and POST /api/review/:id
 * `{ decision: "accept" | "reject", candidateId?, text? }`. The decision is recorded with actor `admin`.
 */
export const reviewRoutesPlugin: FastifyPluginAsync = async (app) => {
  const { auth, config, now, events } = app.council;
  const queue = new ReviewQueue({ path: reviewQueuePath(config), now, ...(events ? { events } : {}) });

  app.get<{ Querystring: { all?: string } }>("/api/review", async (request) => {
    auth.admin(request);
    return { items: request.query.all === "1" ? await queue.items() : await queue.pending() };
  });

  app.post<{ Params: { id: string } }>("/api/review/:id", async (request) => {
    auth.admin(request);
    const id = reviewIdSchema.safeParse(request.params.id);
    if (!id.success) throw new CouncilError("FRAME_INVALID", `Invalid review id: ${id.error.issues[0]?.message}`);
    const body = decideBodySchema.safeParse(request.body ?? {});
    if (!body.success) throw new CouncilError("FRAME_INVALID", `Invalid ${body.error.issues[0]?.path.join(".") || "(root)"}: ${body.error.issues[0]?.message}`);
    const { decision, candidateId, text } = body.data;
    if (decision === "reject" && (candidateId !== undefined || text !== undefined)) throw new CouncilError("FRAME_INVALID", "A rejection takes no candidateId or text.");
    const item = await queue.decide({ id: id.data, actor: ADMIN_ACTOR, choice: decision, ...(candidateId !== undefined ? { candidateId } : {}), ...(text !== undefined ? { editedText: text } : {}) });
    return { item };
  });
};
