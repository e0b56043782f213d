import type { FastifyPluginAsync } from "fastify";
import { checkChatToken, checkOrigin, sendError } from "../auth.js";
import { ChatConnection } from "../chat-connection.js";
import { isCouncilError } from "../../core/index.js";

/**
 * WebSocket chat at `/chat`. The Origin (403 for a foreign browser page) and the chat token (401, 429 after
 * repeated failures from one address) are checked at the HTTP upgrade, before any frame;
 * frames above `maxFrameBytes` close the socket with 1009 (ws `maxPayload`, set in buildApp).
 */
export const chatSocketPlugin: FastifyPluginAsync = async (app) => {
  const services = app.council;
  const { config, metrics, auth } = services;
  const connections = new Set<ChatConnection>();

  const heartbeat = setInterval(() => {
    for (const connection of connections) connection.heartbeat();
  }, config.server.heartbeatSeconds * 1000);
  heartbeat.unref();
  app.addHook("onClose", async () => clearInterval(heartbeat));

  app.get(
    "/chat",
    {
      websocket: true,
      onRequest: async (request, reply) => {
        try {
          checkOrigin(request, config.server.allowedOrigins);
          auth.chat(request);
        } catch (error) {
          if (isCouncilError(error, "FORBIDDEN")) request.log.warn({ origin: request.headers.origin?.slice(0, 200) }, "chat upgrade from a foreign origin refused");
          if (isCouncilError(error)) return sendError(reply, error);
          throw error;
        }
        return undefined;
      },
    },
    (socket, request) => {
      // Checked (and counted) in onRequest; this only reads the identity again.
      const identity = checkChatToken(request, config.server.chatTokens);
      const connection = new ChatConnection({ socket, services, identity, logger: request.log });
      connections.add(connection);
      metrics.wsConnections.inc();
      socket.once("close", () => {
        connections.delete(connection);
        metrics.wsConnections.dec();
        connection.closed();
      });
    },
  );
};
