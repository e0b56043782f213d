import type { FastifyPluginAsync } from "fastify";
import { CouncilError } from "../../core/index.js";
import { applyFeedback } from "../feedback.js";
import { feedbackBodySchema } from "../frames.js";
import { KeyedRateLimiter } from "../rate-limiter.js";

/** GET /health, GET /metrics, POST /feedback, GET /api/traces/:id (admin). */
export const httpRoutesPlugin: FastifyPluginAsync = async (app) => {
  const services = app.council;
  const { config, runtime, metrics, auth } = services;
  const feedbackLimiter = new KeyedRateLimiter({ perMinute: config.server.messagesPerMinute, now: services.now });

  app.get("/health", async (_request, reply) => {
    const ready = runtime.ready();
    // The instance id (public, not a secret) lets the CLI verify this is the server its data dir's server.json names.
    const instance = config.server.instanceId;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ok" : "loading", ...(instance === undefined ? {} : { instance }) });
  });

  app.get("/metrics", async (_request, reply) => {
    const text = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(text);
  });

  app.post("/feedback", async (request, reply) => {
    const identity = auth.chat(request);
    if (!feedbackLimiter.take(request.ip)) throw new CouncilError("RATE_LIMITED", `Too many feedback requests: at most ${config.server.messagesPerMinute} per minute.`);
    const parsed = feedbackBodySchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new CouncilError("FRAME_INVALID", `Invalid ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "schema mismatch"}`);
    }
    // Over HTTP there is no connection that asked: anonymous turns cannot be rated here.
    await applyFeedback(services, { frame: parsed.data, rater: { ...identity, askedHere: () => false } });
    return reply.send({ type: "feedback-ack", trace_id: parsed.data.trace_id });
  });

  app.get<{ Params: { id: string } }>("/api/traces/:id", async (request, reply) => {
    auth.admin(request);
    const id = request.params.id;
    if (id.length === 0 || id.length > 200) throw new CouncilError("FRAME_INVALID", "A trace id is 1-200 characters.");
    const record = await runtime.trace(id);
    if (record === undefined) throw new CouncilError("TRACE_NOT_FOUND", `No recorded turn has trace id ${id}.`);
    return reply.send(record);
  });
};
