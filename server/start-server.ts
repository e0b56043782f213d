import type { FastifyInstance } from "fastify";
import type { CouncilConfig, CouncilMetrics, Logger } from "../core/index.js";
import type { CouncilRuntime } from "../council/types.js";
import { buildApp } from "./build-app.js";
import { DeferredRuntime } from "./deferred-runtime.js";
import type { ImprovementControl } from "./plugins/improve-routes.js";

export interface StartServerOptions {
  config: CouncilConfig;
  logger: Logger;
  metrics: CouncilMetrics;
  /** The council being loaded: the server listens (GET /health 503) until it resolves. */
  loading: Promise<CouncilRuntime>;
  /** The nightly loop's admin API (POST /api/improve/runs …), when this process runs one. */
  improvement?: ImprovementControl;
}

export interface RunningServer {
  app: FastifyInstance;
  /** http://host:port actually bound (port 0 resolved). */
  url: string;
  /** Resolves when the council has loaded; rejects (after closing the server) when loading fails. */
  loaded: Promise<void>;
  /** Graceful stop: closes sockets, cancels waiting turns, lets running ones settle, disposes the council. */
  stop(): Promise<void>;
}

/** Listens on config.server.host:port while the council loads (what `npx council serve` runs). */
export async function startServer({ config, logger, metrics, loading, improvement }: StartServerOptions): Promise<RunningServer> {
  const runtime = new DeferredRuntime(loading);
  const app = await buildApp({ config, runtime, metrics, logger, ...(improvement ? { improvement } : {}) });
  await app.listen({ host: config.server.host, port: config.server.port });
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= app.close().then(() => undefined));
  const loaded = runtime.loaded().then(
    () => logger.info("council loaded; ready for chat"),
    async (error: unknown) => {
      logger.error({ err: error }, "council failed to load; stopping the server");
      await stop();
      throw error;
    },
  );
  return { app, url: `http://${host}:${port}`, loaded, stop };
}
