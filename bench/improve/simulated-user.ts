import { WebSocket } from "ws";
import { CouncilError, safeParseJson } from "../../core/index.js";
import { serverFrameSchema, type ServerFrame } from "../../server/index.js";
import { compileAccept, judgeAnswer, type BenchItem } from "./items.js";

type FinalFrame = Extract<ServerFrame, { type: "final" }>;

export interface AskedItem {
  id: string;
  passed: boolean;
  answer: string;
  traceId: string;
  adapter: string | null;
  /** Where the answer came from: the model (base or adapter), verified memory, or a knowledge-base fallback. */
  source: "model" | "memory" | "fallback";
  /** The council's own verdict (critic score ≥ threshold): false for a fallback even when the fallback is right. */
  councilSuccess: boolean;
  rated: 1 | -1 | null;
  corrected: boolean;
  seconds: number;
}

export interface SimulatedUserOptions {
  /** ws://host:port/chat */
  url: string;
  /** The user's chat token (the server derives the user id from it; sticky canary routing hashes that id). */
  token: string;
  sessionId: string;
  /** Rate the answer (👍 on pass, 👎 on fail). @default true */
  rate?: boolean;
  /** Attach the item's `answer` as the correction of a 👎. @default false */
  correct?: boolean;
  /** @default 300_000 */
  timeoutMs?: number;
}

/**
 * One simulated user turn over the chat WebSocket: ask, judge the final answer against the item's accept
 * regexes, and (unless `rate` is false) send 👍/👎 on the same connection and wait for the ack.
 */
export async function askAndRate({ item, url, token, sessionId, rate = true, correct = false, timeoutMs = 300_000 }: SimulatedUserOptions & { item: BenchItem & { answer?: string } }): Promise<AskedItem> {
  const accept = compileAccept(item);
  const started = performance.now();
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const frames: ServerFrame[] = [];
  let wake: (() => void) | undefined;
  let failure: CouncilError | undefined;
  socket.on("message", (data) => {
    const parsed = safeParseJson(data.toString(), serverFrameSchema);
    if (!parsed.success) failure = parsed.error;
    else frames.push(parsed.value);
    wake?.();
  });
  socket.on("error", (error) => {
    failure = new CouncilError("BACKEND_UNAVAILABLE", `Cannot reach ${url}: ${error.message}`, { cause: error });
    wake?.();
  });
  socket.on("close", () => {
    failure ??= new CouncilError("BACKEND_UNAVAILABLE", `The server closed the chat connection of ${token}.`);
    wake?.();
  });
  const deadline = Date.now() + timeoutMs;
  const next = async <T extends ServerFrame>(match: (frame: ServerFrame) => frame is T): Promise<T> => {
    for (;;) {
      const index = frames.findIndex(match);
      if (index >= 0) return frames.splice(index, 1)[0] as T;
      const error = frames.find((frame): frame is Extract<ServerFrame, { type: "error" }> => frame.type === "error");
      if (error) throw new CouncilError(error.code, `Item ${item.id}: the server answered ${error.code}: ${error.message}`);
      if (failure) throw failure;
      const left = deadline - Date.now();
      if (left <= 0) throw new CouncilError("TIMEOUT", `Item ${item.id}: no answer within ${timeoutMs / 1000} s.`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 1000));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("unexpected-response", (_request, response) => reject(new CouncilError("BACKEND_UNAVAILABLE", `The server answered HTTP ${response.statusCode} to the chat upgrade.`)));
      socket.once("error", reject);
    });
    socket.send(JSON.stringify({ type: "chat", id: item.id.slice(0, 128), session_id: sessionId, text: item.question }));
    const final = await next((frame): frame is FinalFrame => frame.type === "final");
    const passed = judgeAnswer({ answer: final.answer, accept });
    let rated: 1 | -1 | null = null;
    const corrected = rate && !passed && correct && item.answer !== undefined;
    if (rate) {
      rated = passed ? 1 : -1;
      socket.send(JSON.stringify({ type: "feedback", trace_id: final.trace_id, rating: rated, ...(corrected ? { correction: item.answer } : {}) }));
      await next((frame): frame is Extract<ServerFrame, { type: "feedback-ack" }> => frame.type === "feedback-ack" && frame.trace_id === final.trace_id);
    }
    return { id: item.id, passed, answer: final.answer, traceId: final.trace_id, adapter: final.adapter, source: final.source.kind, councilSuccess: final.success, rated, corrected, seconds: (performance.now() - started) / 1000 };
  } finally {
    socket.removeAllListeners("close");
    socket.on("error", () => {});
    socket.close();
  }
}
