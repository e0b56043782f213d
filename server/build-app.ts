import websocket from "@fastify/websocket";
import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import { CouncilError, isCouncilError } from "../core/index.js";
import { sendError } from "./auth.js";
import { AuthGuard } from "./auth-guard.js";
import { GenerationQueue } from "./generation-queue.js";
import { chatSocketPlugin } from "./plugins/chat-socket.js";
import { httpRoutesPlugin } from "./plugins/http-routes.js";
import { improveRoutesPlugin } from "./plugins/improve-routes.js";
import { reviewRoutesPlugin } from "./plugins/review-routes.js";
import { webPagePlugin } from "./plugins/web-page.js";
import type { AppDeps, CouncilServices } from "./services.js";

/** Longest path parameter the router accepts (above the 200 characters a trace id may have). */
const MAX_PARAM_CHARS = 256;

/** How long shutdown waits for running turns before disposing the runtime. */
const DRAIN_TIMEOUT_MS = 10_000;

/**
 * Builds the Council HTTP + WebSocket app, not listening (one script calls `listen`; tests use
 * `inject` or listen on 127.0.0.1:0). Closing the app closes every socket, cancels waiting turns,
 * waits for running ones, then disposes the runtime.
 */
export async function buildApp({ config, runtime, metrics, logger, now = Date.now, improvement, events }: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: logger,
    // Request URLs can carry ?token=: log method, route and status only (onResponse below).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.server.maxFrameBytes,
    forceCloseConnections: true,
    // Trace ids are up to 200 characters: let them reach the routes, which answer typed errors.
    routerOptions: { maxParamLength: MAX_PARAM_CHARS },
    // Errors the router raises before any route (a path parameter over the limit, a malformed URL) get the
    // same typed error JSON as everything else instead of fastify's own bodies (414 FST_ERR_MAX_PARAM_LENGTH).
    frameworkErrors: (error, _request, reply) => void sendError(reply, new CouncilError("FRAME_INVALID", routingErrorMessage(error.code))),
  }) as unknown as FastifyInstance;

  const queue = new GenerationQueue({
    concurrency: config.model.parallel,
    maxWaiting: config.server.queueMax,
    ...(config.server.queueMaxWaitSeconds > 0 ? { maxWaitMs: config.server.queueMaxWaitSeconds * 1000 } : {}),
    onDepth: (depth) => metrics.queueDepth.set(depth),
  });
  const services: CouncilServices = { config, runtime, metrics, logger, now, queue, auth: new AuthGuard({ config, metrics, now }), ...(events ? { events } : {}) };
  app.decorate("council", services);
  metrics.wsConnections.set(0);
  metrics.queueDepth.set(0);

  app.addHook("onResponse", async (request, reply) => {
    request.log.debug({ method: request.method, route: request.routeOptions.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, "request");
  });
  app.setErrorHandler((error: FastifyError | CouncilError, request, reply) => {
    if (isCouncilError(error)) return sendError(reply, error);
    if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") return sendError(reply, new CouncilError("FRAME_TOO_LARGE", `The body exceeds ${config.server.maxFrameBytes} bytes.`));
    if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
      return sendError(reply, new CouncilError("FRAME_INVALID", error.message));
    }
    request.log.error({ err: error }, "request failed");
    return sendError(reply, new CouncilError("INTERNAL", "An internal error happened; the server logs have the details."));
  });
  app.setNotFoundHandler((request, reply) => sendError(reply, new CouncilError("NOT_FOUND", `No route ${request.method} ${request.url.split("?")[0]}.`)));

  app.addHook("onClose", async () => {
    // Sockets are closed by now (preClose), which aborted their turns; give running turns a bounded
    // time to settle so memory writes finish, then dispose the runtime whatever happens.
    let timer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      queue.close().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), DRAIN_TIMEOUT_MS))),
    ]);
    clearTimeout(timer);
    if (!drained) logger.warn({ running: queue.depth }, "turns still running at shutdown; disposing the runtime anyway");
    await runtime.dispose();
  });

  await app.register(websocket, {
    options: { maxPayload: config.server.maxFrameBytes },
    preClose(done) {
      for (const client of app.websocketServer.clients) client.close(1001, "server shutting down");
      app.websocketServer.close();
      done();
    },
  });
  await app.register(chatSocketPlugin);
  await app.register(httpRoutesPlugin);
  await app.register(webPagePlugin);
  if (improvement !== undefined) await app.register(improveRoutesPlugin, { improvement });
  await app.register(reviewRoutesPlugin);
  return app;
}

/** What to tell the client about an error the router raised (never echoing the URL, which can carry ?token=). */
function routingErrorMessage(code: string): string {
  if (code === "FST_ERR_MAX_PARAM_LENGTH") return `A path parameter is longer than ${MAX_PARAM_CHARS} characters; ids are at most 200.`;
  if (code === "FST_ERR_BAD_URL") return "The URL is not valid (bad percent-encoding).";
  return "The request could not be routed.";
}
