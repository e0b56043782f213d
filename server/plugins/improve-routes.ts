import type { FastifyPluginAsync } from "fastify";
import { z } from "zod";
import { CouncilError, isCouncilError } from "../../core/index.js";
import type { RunSummary } from "../../council/index.js";

/** What the admin API drives: the nightly loop and the adapter watcher of this server process. */
export interface ImprovementControl {
  runOnce(): Promise<RunSummary>;
  approve(options: { runId: string; decision: "approve" | "reject"; reason?: string; actor?: string }): Promise<RunSummary>;
  runs(limit?: number): Promise<RunSummary[]>;
  reloadAdapters(): Promise<{ version: string | null; changed: boolean }>;
}

const approveBodySchema = z.object({ decision: z.enum(["approve", "reject"]), reason: z.string().max(2000).optional() }).strict();
const runIdSchema = z.string().regex(/^run-[0-9A-Za-z-]{1,80}$/, "not a run id");

/** How long a start request waits to report an immediate failure (a held lock) before answering 202. */
const START_GRACE_MS = 250;

/**
 * Admin API of the nightly loop. Runs take minutes, so starting answers 202 and the job is polled:
 * POST /api/improve/runs, POST /api/improve/runs/:id/approve, GET /api/improve/job, GET /api/improve/runs,
 * POST /api/adapters/reload.
 */
export const improveRoutesPlugin: FastifyPluginAsync<{ improvement: ImprovementControl }> = async (app, { improvement }) => {
  const { auth, logger } = app.council;
  let job: { kind: "run" | "approve"; startedAt: number; summary: RunSummary | null; error: { code: string; message: string } | null; running: boolean } | null = null;

  const start = async (kind: "run" | "approve", task: () => Promise<RunSummary>) => {
    if (job?.running) throw new CouncilError("RUN_LOCKED", "A nightly run is already going in this server; follow it with: npx council status (or GET /api/improve/job).");
    const current: NonNullable<typeof job> = { kind, startedAt: Date.now(), summary: null, error: null, running: true };
    job = current;
    const done = task().then(
      (summary) => {
        current.summary = summary;
      },
      (error: unknown) => {
        current.error = isCouncilError(error) ? { code: error.code, message: error.message } : { code: "INTERNAL", message: (error as Error).message };
        if (!isCouncilError(error, "RUN_LOCKED")) logger.error({ err: error }, "nightly run failed");
      },
    ).finally(() => {
      current.running = false;
    });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, START_GRACE_MS))]);
    if (current.error?.code === "RUN_LOCKED") throw new CouncilError("RUN_LOCKED", current.error.message);
    return current;
  };

  app.post("/api/improve/runs", async (request, reply) => {
    auth.admin(request);
    const started = await start("run", () => improvement.runOnce());
    return reply.code(202).send({ running: started.running, summary: started.summary, error: started.error });
  });

  app.post<{ Params: { id: string } }>("/api/improve/runs/:id/approve", async (request, reply) => {
    auth.admin(request);
    const runId = runIdSchema.safeParse(request.params.id);
    if (!runId.success) throw new CouncilError("FRAME_INVALID", `Invalid run id: ${runId.error.issues[0]?.message}`);
    const body = approveBodySchema.safeParse(request.body ?? {});
    if (!body.success) throw new CouncilError("FRAME_INVALID", `Invalid ${body.error.issues[0]?.path.join(".") || "(root)"}: ${body.error.issues[0]?.message}`);
    const started = await start("approve", () => improvement.approve({ runId: runId.data, decision: body.data.decision, actor: "admin", ...(body.data.reason ? { reason: body.data.reason } : {}) }));
    return reply.code(202).send({ running: started.running, summary: started.summary, error: started.error });
  });

  app.get("/api/improve/job", async (request) => {
    auth.admin(request);
    return job ?? { running: false, summary: null, error: null };
  });

  app.get("/api/improve/runs", async (request) => {
    auth.admin(request);
    return { runs: await improvement.runs(20) };
  });

  app.post("/api/adapters/reload", async (request) => {
    auth.admin(request);
    return improvement.reloadAdapters();
  });
};
