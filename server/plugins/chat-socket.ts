import type { FastifyPluginAsync } from "fastify";
import { checkChatToken, sendError } from "../auth.js";
import { ChatConnection } from "../chat-connection.js";
import { isCouncilError } from "../../core/index.js";

/**
 * WebSocket chat at `/chat`. The chat token is checked at the HTTP upgrade (401 before any frame);
 * frames above `maxFrameBytes` close the socket with 1009 (ws `maxPayload`, set in buildApp).
 */
export const chatSocketPlugin: FastifyPluginAsync = async (app) => {
  const services = app.council;
  const { config, metrics } = services;
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
          checkChatToken(request, config.server.chatTokens);
        } catch (error) {
          if (isCouncilError(error)) return sendError(reply, error);
          throw error;
        }
        return undefined;
      },
    },
    (socket, request) => {
      const { userId } = checkChatToken(request, config.server.chatTokens);
      const connection = new ChatConnection({ socket, services, userId, logger: request.log });
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
