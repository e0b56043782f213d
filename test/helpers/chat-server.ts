import { WebSocket, type ClientOptions } from "ws";
import type { FastifyInstance } from "fastify";
import { createMetrics, loadConfig, Registry, silentLogger, type CouncilConfig, type CouncilMetrics, type LoadConfigOptions } from "../../core/index.js";
import type { CouncilRuntime } from "../../council/types.js";
import { buildApp, serverFrameSchema, type ServerFrame } from "../../server/index.js";

export interface TestServer {
  app: FastifyInstance;
  config: CouncilConfig;
  metrics: CouncilMetrics;
  /** http://127.0.0.1:<port> */
  httpUrl: string;
  /** ws://127.0.0.1:<port>/chat */
  wsUrl: string;
  close(): Promise<void>;
}

/** Builds the app on `runtime` and listens on 127.0.0.1:`port` (@default 0, a free port; a restart test passes the old one). */
export async function startTestServer({ runtime, server = {}, now, listen = true, port: listenPort = 0 }: { runtime: CouncilRuntime; server?: NonNullable<LoadConfigOptions["overrides"]>["server"]; now?: () => number; listen?: boolean; port?: number }): Promise<TestServer> {
  const config = loadConfig({ env: {}, overrides: { logLevel: "silent", server: { host: "127.0.0.1", port: 0, ...server } } });
  const metrics = createMetrics({ registry: new Registry(), defaultMetrics: false });
  const app = await buildApp({ config, runtime, metrics, logger: silentLogger, ...(now ? { now } : {}) });
  let port = 0;
  if (listen) {
    await app.listen({ host: "127.0.0.1", port: listenPort });
    const address = app.server.address();
    port = typeof address === "object" && address !== null ? address.port : 0;
  } else {
    await app.ready();
  }
  return { app, config, metrics, httpUrl: `http://127.0.0.1:${port}`, wsUrl: `ws://127.0.0.1:${port}/chat`, close: () => app.close() };
}

/** A WebSocket test client that queues parsed server frames. */
export class ChatClient {
  readonly socket: WebSocket;
  readonly frames: ServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Array<() => void> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once("close", (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on("message", (data) => {
      const parsed = serverFrameSchema.safeParse(JSON.parse(data.toString()));
      if (!parsed.success) throw new Error(`server sent an invalid frame: ${data.toString()}`);
      this.frames.push(parsed.data);
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  static connect(url: string, options: ClientOptions = {}): Promise<ChatClient> {
    const socket = new WebSocket(url, options);
    return new Promise((resolve, reject) => {
      socket.once("open", () => resolve(new ChatClient(socket)));
      socket.once("unexpected-response", (_request, response) => reject(Object.assign(new Error(`HTTP ${response.statusCode}`), { statusCode: response.statusCode })));
      socket.once("error", reject);
    });
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Waits for (and removes) the first queued frame matching `predicate`. */
  async next(predicate: (frame: ServerFrame) => boolean = () => true, timeoutMs = 5000): Promise<ServerFrame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.frames.findIndex(predicate);
      if (index >= 0) return this.frames.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; have ${JSON.stringify(this.frames)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a chat frame and collects its tokens and its final (or error) frame. */
  async ask(id: string, text: string, extra: Record<string, unknown> = {}): Promise<{ tokens: string[]; end: ServerFrame }> {
    this.send({ type: "chat", id, text, ...extra });
    const end = await this.next((frame) => (frame.type === "final" || frame.type === "error") && frame.id === id);
    const tokens: string[] = [];
    for (let index = this.frames.findIndex((f) => f.type === "token" && f.id === id); index >= 0; index = this.frames.findIndex((f) => f.type === "token" && f.id === id)) {
      const frame = this.frames.splice(index, 1)[0]!;
      if (frame.type === "token") tokens.push(frame.text);
    }
    return { tokens, end };
  }

  close(): Promise<{ code: number; reason: string }> {
    this.socket.close();
    return this.closed;
  }
}
