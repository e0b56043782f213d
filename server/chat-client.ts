import { WebSocket } from "ws";
import { CouncilError, safeParseJson } from "../core/index.js";
import { serverFrameSchema, type ServerFrame } from "./frames.js";

type FinalFrame = Extract<ServerFrame, { type: "final" }>;

export interface AskOptions {
  /** ws://host:port/chat */
  url: string;
  text: string;
  token?: string;
  sessionId?: string;
  /** @default "1" */
  id?: string;
  /** @default 120_000 */
  timeoutMs?: number;
  onToken?: (text: string) => void;
}

/**
 * Asks one question over the chat WebSocket and resolves with the final frame. Error frames, a 401 at the
 * upgrade, an unreachable server and the timeout reject with a CouncilError (UNAUTHORIZED,
 * BACKEND_UNAVAILABLE, TIMEOUT, or the error frame's code).
 */
export function askOverWebSocket({ url, text, token, sessionId, id = "1", timeoutMs = 120_000, onToken }: AskOptions): Promise<FinalFrame> {
  return new Promise<FinalFrame>((resolve, reject) => {
    const socket = new WebSocket(url, token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
    let settled = false;
    const finish = (error: CouncilError | undefined, frame?: FinalFrame) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeAllListeners("message");
      socket.once("error", () => {});
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.terminate();
      if (error) reject(error);
      else resolve(frame!);
    };
    const timer = setTimeout(() => finish(new CouncilError("TIMEOUT", `No final answer from ${url} within ${timeoutMs / 1000} s.`)), timeoutMs);
    socket.once("unexpected-response", (_request, response) => {
      const code = response.statusCode === 401 ? "UNAUTHORIZED" : "BACKEND_UNAVAILABLE";
      finish(new CouncilError(code, response.statusCode === 401 ? "The server refused the chat token (401): pass --token." : `The server answered HTTP ${response.statusCode} instead of upgrading to WebSocket.`));
    });
    socket.once("error", (error) => finish(new CouncilError("BACKEND_UNAVAILABLE", `Cannot reach ${url}: ${error.message}. Is \`npx council serve\` running?`, { cause: error })));
    socket.once("close", (code) => finish(new CouncilError("BACKEND_UNAVAILABLE", `The server closed the connection (code ${code}) before answering.`)));
    socket.once("open", () => socket.send(JSON.stringify({ type: "chat", id, text, ...(sessionId === undefined ? {} : { session_id: sessionId }) })));
    socket.on("message", (data) => {
      const parsed = safeParseJson(data.toString(), serverFrameSchema);
      if (!parsed.success) return finish(new CouncilError("FRAME_INVALID", `The server sent an invalid frame: ${parsed.error.message}`));
      const frame = parsed.value;
      if (frame.type === "token" && frame.id === id) onToken?.(frame.text);
      else if (frame.type === "final" && frame.id === id) finish(undefined, frame);
      else if (frame.type === "error") finish(new CouncilError(frame.code, frame.message));
      return undefined;
    });
  });
}
