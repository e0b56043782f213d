import type { FastifyRequest } from "fastify";
import { CouncilError, isCouncilError, type CouncilConfig, type CouncilMetrics } from "../core/index.js";
import { checkAdminToken, checkChatToken, type ChatIdentity } from "./auth.js";
import { KeyedRateLimiter } from "./rate-limiter.js";

export interface AuthGuardOptions {
  config: CouncilConfig;
  metrics: CouncilMetrics;
  /** @default Date.now */
  now?: () => number;
}

/**
 * Every token check of the server goes through here. A missing or wrong token is logged (address, kind and
 * reason, never the token), counted in `council_auth_failures_total{kind}`, and charged to the client address:
 * after `server.authFailuresPerMinute` failures that address is answered 429 RATE_LIMITED with `retry-after`
 * until its budget refills (one more try every `60 / authFailuresPerMinute` s), whatever token it sends, so a
 * right guess cannot be told from a wrong one while it is limited.
 */
export class AuthGuard {
  readonly #config: CouncilConfig;
  readonly #metrics: CouncilMetrics;
  readonly #failures: KeyedRateLimiter;

  constructor({ config, metrics, now = Date.now }: AuthGuardOptions) {
    this.#config = config;
    this.#metrics = metrics;
    this.#failures = new KeyedRateLimiter({ perMinute: config.server.authFailuresPerMinute, now });
  }

  /** The chat identity of a request (see checkChatToken); throws UNAUTHORIZED or RATE_LIMITED. */
  chat(request: FastifyRequest): ChatIdentity {
    return this.#guard(request, "chat", () => checkChatToken(request, this.#config.server.chatTokens));
  }

  /** Throws UNAUTHORIZED or RATE_LIMITED unless the request carries the admin token. */
  admin(request: FastifyRequest): void {
    this.#guard(request, "admin", () => checkAdminToken(request, this.#config.server.adminToken));
  }

  #guard<T>(request: FastifyRequest, kind: "admin" | "chat", check: () => T): T {
    const waitMs = this.#failures.waitMs(request.ip);
    if (waitMs > 0) {
      const retryAfterSeconds = Math.ceil(waitMs / 1000);
      throw new CouncilError("RATE_LIMITED", `Too many failed token checks from this address; retry in ${retryAfterSeconds} s.`, { details: { retryAfterSeconds } });
    }
    try {
      return check();
    } catch (error) {
      // "disabled" (no admin token configured) is not a guess: nothing to count or slow down.
      if (isCouncilError(error, "UNAUTHORIZED") && error.details?.reason !== "disabled") {
        this.#failures.take(request.ip);
        this.#metrics.authFailures.inc({ kind });
        request.log.warn({ kind, reason: error.details?.reason, ip: request.ip, route: request.routeOptions.url }, "token check failed");
      }
      throw error;
    }
  }
}
