import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { CouncilError } from "../core/index.js";

/**
 * A token from `Authorization: Bearer <token>` or, for browsers' WebSockets (which cannot set headers),
 * `?token=` when `allowQuery`.
 */
export function requestToken(request: FastifyRequest, { allowQuery = true }: { allowQuery?: boolean } = {}): string | undefined {
  const header = request.headers.authorization;
  if (typeof header === "string") {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match) return match[1];
  }
  if (!allowQuery) return undefined;
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  return typeof fromQuery === "string" && fromQuery.length > 0 ? fromQuery : undefined;
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

/** Constant-time membership test (compares digests, so lengths do not leak). */
export function tokenMatches(token: string, allowed: readonly string[]): boolean {
  const given = digest(token);
  let found = false;
  for (const candidate of allowed) found = timingSafeEqual(given, digest(candidate)) || found;
  return found;
}

/** The user id a token stands for: a hash, so tokens never reach memory or logs. */
export function userIdForToken(token: string): string {
  return `user-${digest(`council-user:${token}`).toString("hex").slice(0, 16)}`;
}

export interface ChatIdentity {
  userId: string | undefined;
  /** True when the token matched a configured chat token; a token on an open server names a user nobody checked. */
  verified: boolean;
}

/** Why a token check failed, in `CouncilError.details.reason`: only `missing` and `wrong` count as failed guesses. */
export type AuthFailureReason = "disabled" | "missing" | "wrong";

function unauthorized(reason: AuthFailureReason, message: string): CouncilError {
  return new CouncilError("UNAUTHORIZED", message, { details: { reason } });
}

/**
 * Checks a chat token when `chatTokens` is configured (401 UNAUTHORIZED otherwise).
 * With no tokens configured chat is open; a token sent anyway still names the user (unverified).
 */
export function checkChatToken(request: FastifyRequest, chatTokens: readonly string[]): ChatIdentity {
  const token = requestToken(request);
  if (chatTokens.length > 0) {
    if (token === undefined) throw unauthorized("missing", "A chat token is required: send Authorization: Bearer <token> or ?token=<token>.");
    if (!tokenMatches(token, chatTokens)) throw unauthorized("wrong", "The chat token is not valid.");
  }
  return { userId: token === undefined ? undefined : userIdForToken(token), verified: chatTokens.length > 0 && token !== undefined };
}

export function checkAdminToken(request: FastifyRequest, adminToken: string | undefined): void {
  if (adminToken === undefined) throw unauthorized("disabled", "Admin routes are disabled: set COUNCIL_ADMIN_TOKEN to enable them.");
  // Admin tokens only travel in the header: URLs end up in proxy logs and browser history.
  const token = requestToken(request, { allowQuery: false });
  if (token === undefined) throw unauthorized("missing", "An admin token is required: send Authorization: Bearer <token>.");
  if (!tokenMatches(token, [adminToken])) throw unauthorized("wrong", "The admin token is not valid.");
}

/**
 * Browsers send `Origin` on every WebSocket upgrade and let any page open a socket to any host, so a page
 * elsewhere could chat (and rate answers) with the visitor's cookies, network position or ?token. Allowed:
 * no Origin (the CLI, ws and other non-browser clients), the server's own origin (Origin host = Host
 * header), and `allowedOrigins`. Anything else is 403 FORBIDDEN.
 */
export function checkOrigin(request: FastifyRequest, allowedOrigins: readonly string[]): void {
  const origin = request.headers.origin;
  if (origin === undefined) return;
  const url = parseUrl(origin);
  if (url !== undefined) {
    const host = request.headers.host;
    // Normalise the Host header as the Origin was (default port dropped, lower case) before comparing.
    if (host !== undefined && parseUrl(`${url.protocol}//${host}`)?.host === url.host) return;
    if (allowedOrigins.some((allowed) => parseUrl(allowed)?.origin === url.origin)) return;
  }
  throw new CouncilError("FORBIDDEN", "This page's origin may not open the chat socket; the operator can add it to COUNCIL_ALLOWED_ORIGINS.");
}

/** undefined for text that is not a URL (`null` from sandboxed pages and file://: no origin to allow). */
function parseUrl(text: string): URL | undefined {
  return URL.canParse(text) ? new URL(text) : undefined;
}

/** The HTTP status for a Council error code. */
export function httpStatusFor(code: CouncilError["code"]): number {
  switch (code) {
    case "FRAME_INVALID":
      return 400;
    case "UNAUTHORIZED":
      return 401;
    case "FORBIDDEN":
      return 403;
    case "NOT_FOUND":
    case "TRACE_NOT_FOUND":
    case "REVIEW_NOT_FOUND":
      return 404;
    case "RUN_LOCKED":
      return 409;
    case "FRAME_TOO_LARGE":
      return 413;
    case "RATE_LIMITED":
      return 429;
    case "BUSY":
    case "BACKEND_UNAVAILABLE":
      return 503;
    default:
      return 500;
  }
}

export function sendError(reply: FastifyReply, error: CouncilError): FastifyReply {
  const retryAfter = error.details?.retryAfterSeconds;
  if (typeof retryAfter === "number") reply.header("retry-after", String(retryAfter));
  return reply.code(httpStatusFor(error.code)).send({ type: "error", code: error.code, message: error.message });
}
