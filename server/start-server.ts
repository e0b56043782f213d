import type { FastifyInstance } from "fastify";
import { CouncilError, type CouncilConfig, type CouncilMetrics, type Logger } from "../core/index.js";
import type { CouncilRuntime } from "../council/index.js";
import { openEventLog } from "../memory/index.js";
import { buildApp } from "./build-app.js";
import { DeferredRuntime } from "./deferred-runtime.js";
import type { ImprovementControl } from "./plugins/improve-routes.js";

export interface StartServerOptions {
  config: CouncilConfig;
  logger: Logger;
  metrics: CouncilMetrics;
  /**
   * The council being loaded: the server listens (GET /health 503) until it resolves. Pass a function to
   * start loading only once the port is bound (what `serve` does): a busy port then fails with PORT_IN_USE
   * in milliseconds, before the model is loaded.
   */
  loading: Promise<CouncilRuntime> | (() => Promise<CouncilRuntime>);
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

/**
 * Listens on config.server.host:port while the council loads (what `npx council serve` runs).
 * Throws PORT_IN_USE when the port is taken (the server is closed and, with a `loading` function, nothing was loaded).
 */
export async function startServer({ config, logger, metrics, loading, improvement }: StartServerOptions): Promise<RunningServer> {
  let begin!: (runtime: Promise<CouncilRuntime>) => void;
  const runtime = new DeferredRuntime(new Promise<CouncilRuntime>((resolve) => (begin = resolve)));
  const lazy = typeof loading === "function";
  if (!lazy) begin(loading);
  // Admin decisions (review) go to the event log; the council's own log instance records turns and nights.
  const events = await openEventLog({ config, logger });
  const app = await buildApp({ config, runtime, metrics, logger, ...(improvement ? { improvement } : {}), ...(events ? { events } : {}) });
  const host = config.server.host.includes(":") ? `[${config.server.host}]` : config.server.host;
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (error) {
    const failure =
      (error as NodeJS.ErrnoException).code === "EADDRINUSE"
        ? new CouncilError("PORT_IN_USE", `${host}:${config.server.port} is already in use (another \`council serve\`?); stop that process or set COUNCIL_PORT / --port to a free port.`, {
            cause: error,
            details: { host: config.server.host, port: config.server.port },
          })
        : error;
    if (lazy) begin(Promise.reject(failure)); // nothing was loaded: the runtime's dispose (onClose) is a no-op
    await app.close();
    throw failure;
  }
  if (lazy) begin(Promise.resolve().then(loading));
  const address = app.server.address();
  const port = typeof address === "object" && address !== null ? address.port : config.server.port;
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
