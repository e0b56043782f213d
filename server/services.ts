import type { CouncilConfig, CouncilMetrics, Logger } from "../core/index.js";
import type { CouncilRuntime } from "../council/index.js";
import type { EventSink } from "../memory/index.js";
import type { AuthGuard } from "./auth-guard.js";
import type { GenerationQueue } from "./generation-queue.js";
import type { ImprovementControl } from "./plugins/improve-routes.js";

/** What `buildApp` needs: everything non-deterministic is injected. */
export interface AppDeps {
  config: CouncilConfig;
  runtime: CouncilRuntime;
  metrics: CouncilMetrics;
  logger: Logger;
  /** @default Date.now */
  now?: () => number;
  /** The nightly loop of this process; when given, the admin API under /api/improve and /api/adapters is served. */
  improvement?: ImprovementControl;
  /** The event log: review decisions taken through the admin API are appended to it. */
  events?: EventSink;
}

/** Shared services, decorated on the app as `app.council`. */
export interface CouncilServices {
  config: CouncilConfig;
  runtime: CouncilRuntime;
  metrics: CouncilMetrics;
  logger: Logger;
  now: () => number;
  /** The bounded generation queue every chat turn goes through. */
  queue: GenerationQueue;
  /** Token checks, rate-limited per client address on failure. */
  auth: AuthGuard;
  events?: EventSink;
}

declare module "fastify" {
  interface FastifyInstance {
    council: CouncilServices;
  }
}
