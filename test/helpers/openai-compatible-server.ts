import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A real HTTP server on 127.0.0.1 that speaks the parts of the OpenAI API Council uses:
 * `POST /v1/chat/completions` (JSON and SSE streaming, `stream_options.include_usage`), `POST /v1/embeddings`
 * (float and base64), `GET /v1/models`. Replies are deterministic: `<model> says: <last user message>`, one
 * word per token, cut at `max_tokens`. Unknown models get 404 (how vLLM answers an unknown LoRA module).
 */
export interface OpenAICompatibleServer {
  baseUrl: string;
  /** Every request body received, in order. */
  requests: { path: string; body: Record<string, unknown> }[];
  /** The next `count` API requests fail with this HTTP status. */
  failNext(status: number, count?: number): void;
  close(): Promise<void>;
}

export interface OpenAICompatibleServerOptions {
  /** Served model names: the base and any LoRA modules. @default ["base-model"] */
  models?: string[];
  /** Delay between streamed tokens. @default 0 */
  tokenDelayMs?: number;
  /** Embedding length. @default 32 */
  dimensions?: number;
}

export function replyFor(model: string, lastUser: string): string {
  return `${model} says: ${lastUser}`;
}

export function embeddingFor(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  const padded = ` ${text.toLowerCase()} `;
  for (let i = 0; i + 3 <= padded.length; i++) {
    let hash = 2166136261;
    for (const char of padded.slice(i, i + 3)) hash = Math.imul(hash ^ char.charCodeAt(0), 16777619);
    const index = (hash >>> 0) % dimensions;
    vector[index] = vector[index]! + ((hash >>> 31) & 1 ? 1 : -1);
  }
  const norm = Math.hypot(...vector) || 1;
  return vector.map((value) => value / norm);
}

export async function startOpenAICompatibleServer({
  models = ["base-model"],
  tokenDelayMs = 0,
  dimensions = 32,
}: OpenAICompatibleServerOptions = {}): Promise<OpenAICompatibleServer> {
  const requests: OpenAICompatibleServer["requests"] = [];
  let failures: { status: number; count: number } = { status: 500, count: 0 };
  const server: Server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => send(response, 500, { error: { message: String(error) } }));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? "/").split("?")[0]!;
    if (request.method === "GET" && path === "/v1/models") {
      send(response, 200, { object: "list", data: models.map((id) => ({ id, object: "model", owned_by: "test" })) });
      return;
    }
    const body = await readJson(request);
    requests.push({ path, body });
    if (failures.count > 0) {
      failures.count--;
      send(response, failures.status, { error: { message: `injected failure ${failures.status}`, type: "server_error" } });
      return;
    }
    const model = String(body.model ?? "");
    if (!models.includes(model)) {
      send(response, 404, { error: { message: `The model \`${model}\` does not exist.`, type: "NotFoundError", code: 404 } });
      return;
    }
    if (request.method === "POST" && path === "/v1/chat/completions") return chat(body, model, response);
    if (request.method === "POST" && path === "/v1/embeddings") return embeddings(body, model, response);
    send(response, 404, { error: { message: `No route ${request.method} ${path}` } });
  }

  async function chat(body: Record<string, unknown>, model: string, response: ServerResponse): Promise<void> {
    const messages = (body.messages as { role: string; content: unknown }[] | undefined) ?? [];
    const lastUser = [...messages].reverse().find((message) => message.role === "user");
    const text = typeof lastUser?.content === "string" ? lastUser.content : JSON.stringify(lastUser?.content ?? "");
    const words = replyFor(model, text).split(/(?=\s)/);
    const maxTokens = Number(body.max_tokens ?? body.max_completion_tokens ?? 1_000_000);
    const tokens = words.slice(0, maxTokens);
    const finish = tokens.length < words.length ? "length" : "stop";
    const promptTokens = messages.reduce((sum, message) => sum + String(message.content).split(/\s+/).length, 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
    const id = `chatcmpl-${requests.length}`;
    const created = Math.floor(Date.now() / 1000);
    if (body.stream !== true) {
      send(response, 200, {
        id,
        object: "chat.completion",
        created,
        model,
        choices: [{ index: 0, message: { role: "assistant", content: tokens.join("") }, finish_reason: finish }],
        usage,
      });
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive" });
    const event = (data: unknown) => response.write(`data: ${JSON.stringify(data)}\n\n`);
    let closed = false;
    response.on("close", () => {
      closed = true;
    });
    event({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
    for (const token of tokens) {
      if (tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelayMs));
      if (closed) return;
      event({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: { content: token }, finish_reason: null }] });
    }
    event({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta: {}, finish_reason: finish }] });
    const streamOptions = body.stream_options as { include_usage?: boolean } | undefined;
    if (streamOptions?.include_usage === true) event({ id, object: "chat.completion.chunk", created, model, choices: [], usage });
    response.end("data: [DONE]\n\n");
  }

  function embeddings(body: Record<string, unknown>, model: string, response: ServerResponse): void {
    const input = body.input;
    const texts = Array.isArray(input) ? input.map(String) : [String(input)];
    const base64 = body.encoding_format === "base64";
    send(response, 200, {
      object: "list",
      model,
      data: texts.map((text, index) => {
        const vector = embeddingFor(text, dimensions);
        return { object: "embedding", index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector };
      }),
      usage: { prompt_tokens: texts.length, total_tokens: texts.length },
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    failNext(status, count = 1) {
      failures = { status, count };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function send(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) {
    response.end();
    return;
  }
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (text === "") return {};
  const parsed: unknown = JSON.parse(text);
  return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {};
}
