import { randomUUID } from "node:crypto";
import type { RawData, WebSocket } from "ws";
import { CouncilError, isCouncilError, safeParseJson, type Logger } from "../core/index.js";
import type { ChatIdentity } from "./auth.js";
import { applyFeedback } from "./feedback.js";
import { clientFrameSchema, type ChatFrame, type FeedbackFrame, type ServerFrame } from "./frames.js";
import { TokenBucket } from "./rate-limiter.js";
import type { CouncilServices } from "./services.js";

/** Questions one connection may have waiting or running at once (one client cannot fill the queue). */
export const MAX_IN_FLIGHT_PER_CONNECTION = 4;

/**
 * RATE_LIMITED replies one connection may earn per minute (all at once, then one every 3 s); the frame after
 * that closes the socket with 1008 (policy violation) instead of answering a flood frame by frame.
 */
export const RATE_LIMITED_REPLIES_PER_MINUTE = 20;

/** Trace ids a connection remembers having answered, so that an anonymous asker can rate them (oldest forgotten). */
export const RATEABLE_TURNS_PER_CONNECTION = 1_000;

type ChatLogger = Pick<Logger, "debug" | "info" | "warn" | "error">;

export interface ChatConnectionOptions {
  socket: WebSocket;
  services: CouncilServices;
  /** Who is asking (the chat token's hash, if one was sent, and whether it was checked). */
  identity: ChatIdentity;
  logger: ChatLogger;
  /** @default randomUUID */
  generateId?: () => string;
}

/**
 * One chat WebSocket: parses and rate-limits frames, queues turns, streams tokens, and drops the peer
 * when it stops reading (outbound buffer over the cap) or stops answering pings.
 */
export class ChatConnection {
  readonly #socket: WebSocket;
  readonly #services: CouncilServices;
  readonly #identity: ChatIdentity;
  readonly #logger: ChatLogger;
  readonly #sessionId: string;
  readonly #bucket: TokenBucket;
  readonly #rateLimitedReplies: TokenBucket;
  readonly #answered = new Set<string>();
  readonly #inFlight = new Set<AbortController>();
  #alive = true;

  constructor({ socket, services, identity, logger, generateId = randomUUID }: ChatConnectionOptions) {
    this.#socket = socket;
    this.#services = services;
    this.#identity = identity;
    this.#logger = logger;
    this.#sessionId = `ws-${generateId()}`;
    this.#bucket = new TokenBucket({ perMinute: services.config.server.messagesPerMinute, now: services.now });
    this.#rateLimitedReplies = new TokenBucket({ perMinute: RATE_LIMITED_REPLIES_PER_MINUTE, now: services.now });
    socket.on("message", (data, isBinary) => this.#onMessage(data, isBinary));
    socket.on("pong", () => {
      this.#alive = true;
    });
    socket.on("error", (error) => this.#logger.debug({ err: error }, "chat socket error"));
  }

  /** Turns in progress or waiting for this connection. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /** Called every heartbeat: a peer that did not answer the last ping is terminated. */
  heartbeat(): void {
    if (!this.#alive) {
      this.#logger.info("chat peer did not answer ping; terminating");
      this.#socket.terminate();
      return;
    }
    this.#alive = false;
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.ping();
  }

  /** The socket closed: cancel its waiting and running turns. */
  closed(): void {
    for (const controller of this.#inFlight) controller.abort(new CouncilError("CANCELLED", "The client disconnected."));
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    // Frames already on the wire when the socket started closing are not served.
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    if (!this.#bucket.take()) {
      this.#rateLimited(data, isBinary);
      return;
    }
    if (isBinary) {
      this.#send({ type: "error", code: "FRAME_INVALID", message: "Binary frames are not accepted; send JSON text." });
      return;
    }
    const parsed = safeParseJson(rawText(data), clientFrameSchema);
    if (!parsed.success) {
      this.#send({ type: "error", code: parsed.error.code, message: parsed.error.message });
      return;
    }
    const frame = parsed.value;
    if (frame.type === "chat") void this.#chat(frame);
    else void this.#feedback(frame);
  }

  #rateLimited(data: RawData, isBinary: boolean): void {
    if (!this.#rateLimitedReplies.take()) {
      this.#logger.warn({ limit: RATE_LIMITED_REPLIES_PER_MINUTE }, "chat peer kept sending after RATE_LIMITED; closing it");
      this.#socket.close(1008, "rate limit exceeded");
      return;
    }
    // Name the dropped question, so the client knows which one to send again.
    const parsed = isBinary ? undefined : safeParseJson(rawText(data), clientFrameSchema);
    const id = parsed?.success && parsed.value.type === "chat" ? parsed.value.id : undefined;
    const message = `Too many messages: at most ${this.#services.config.server.messagesPerMinute} per minute on one connection.`;
    this.#send({ type: "error", ...(id !== undefined ? { id } : {}), code: "RATE_LIMITED", message });
  }

  /**
   * The session a question belongs to. A session id is the client's choice, so an anonymous connection's is
   * scoped to the connection: two anonymous clients sending the same session_id do not share history.
   * (A user with a token is scoped by the user id instead, in the council's session history.)
   */
  #session(requested: string | undefined): string {
    if (requested === undefined) return this.#sessionId;
    return this.#identity.userId === undefined ? `${this.#sessionId}:${requested}` : requested;
  }

  #remember(traceId: string): void {
    this.#answered.add(traceId);
    if (this.#answered.size > RATEABLE_TURNS_PER_CONNECTION) this.#answered.delete(this.#answered.values().next().value!);
  }

  async #chat(frame: ChatFrame): Promise<void> {
    const { queue, runtime, metrics } = this.#services;
    if (this.#inFlight.size >= MAX_IN_FLIGHT_PER_CONNECTION) {
      metrics.requests.inc({ route: "none", adapter: "none", outcome: "busy" });
      this.#send({ type: "error", id: frame.id, code: "BUSY", message: `At most ${MAX_IN_FLIGHT_PER_CONNECTION} questions may be in flight on one connection; wait for an answer.` });
      return;
    }
    const controller = new AbortController();
    this.#inFlight.add(controller);
    try {
      const result = await queue.submit(
        () =>
          runtime.turn({
            id: frame.id,
            sessionId: this.#session(frame.session_id),
            ...(this.#identity.userId !== undefined ? { userId: this.#identity.userId } : {}),
            text: frame.text,
            signal: controller.signal,
            onToken: (text) => this.#send({ type: "token", id: frame.id, text }),
          }),
        { signal: controller.signal },
      );
      this.#remember(result.traceId);
      this.#send({ type: "final", id: frame.id, trace_id: result.traceId, answer: result.answer, score: result.score, success: result.success, route: result.route, adapter: result.adapter, source: result.source });
    } catch (error) {
      if (isCouncilError(error, "BUSY")) metrics.requests.inc({ route: "none", adapter: "none", outcome: "busy" });
      this.#sendError(error, frame.id);
    } finally {
      this.#inFlight.delete(controller);
    }
  }

  async #feedback(frame: FeedbackFrame): Promise<void> {
    try {
      await applyFeedback(this.#services, { frame, rater: { ...this.#identity, askedHere: (traceId) => this.#answered.has(traceId) } });
      this.#send({ type: "feedback-ack", trace_id: frame.trace_id });
    } catch (error) {
      this.#sendError(error, undefined);
    }
  }

  #sendError(error: unknown, id: string | undefined): void {
    if (isCouncilError(error)) {
      const retryAfter = error.details?.retryAfterSeconds;
      this.#send({ type: "error", ...(id !== undefined ? { id } : {}), code: error.code, message: error.message, ...(typeof retryAfter === "number" ? { retry_after_s: retryAfter } : {}) });
      return;
    }
    this.#logger.error({ err: error }, "chat turn failed");
    this.#send({ type: "error", ...(id !== undefined ? { id } : {}), code: "INTERNAL", message: "An internal error happened; the server logs have the details." });
  }

  #send(frame: ServerFrame): void {
    const socket = this.#socket;
    if (socket.readyState !== socket.OPEN) return;
    if (socket.bufferedAmount > this.#services.config.server.maxBufferedBytes) {
      this.#logger.warn({ bufferedBytes: socket.bufferedAmount }, "chat peer is not reading; dropping it");
      socket.terminate();
      return;
    }
    socket.send(JSON.stringify(frame));
  }
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
