import { Writable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, createMetrics, loadConfig, Registry } from "../core/index.js";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { userIdForToken } from "./auth.js";
import { buildApp } from "./build-app.js";

const ADMIN = "admin-token-123";
const ALICE = "alice-chat-token-0001";
const BOB = "bob-chat-token-000002";
let server: TestServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setup({ ready = true, chatTokens = [] as string[], now }: { ready?: boolean; chatTokens?: string[]; now?: () => number } = {}) {
  const memory = new FakeMemoryStore();
  const runtime = new FakeCouncilRuntime({ memory, ready });
  server = await startTestServer({ runtime, listen: false, server: { adminToken: ADMIN, chatTokens }, ...(now ? { now } : {}) });
  return { runtime, memory, app: server.app, metrics: server.metrics };
}

describe("GET /health", () => {
  it("answers 503 while the model loads and 200 once ready", async () => {
    const { app, runtime } = await setup({ ready: false });
    const loading = await app.inject({ method: "GET", url: "/health" });
    expect(loading.statusCode).toBe(503);
    expect(loading.json()).toEqual({ status: "loading" });
    runtime.isReady = true;
    const ready = await app.inject({ method: "GET", url: "/health" });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: "ok" });
  });
});

describe("GET /metrics", () => {
  it("serves Prometheus text from the injected registry, with the server's gauges", async () => {
    const { app, metrics } = await setup();
    metrics.requests.inc({ route: "general", adapter: "base", outcome: "success" });
    const response = await app.inject({ method: "GET", url: "/metrics" });
    expect(response.statusCode).toBe(200);
    expect(response.headers["content-type"]).toContain("text/plain");
    expect(response.body).toContain('council_requests_total{route="general",adapter="base",outcome="success"} 1');
    expect(response.body).toContain("council_ws_connections 0");
    expect(response.body).toContain("council_queue_depth 0");
  });
});

describe("POST /feedback", () => {
  it("applies a 👎 with a correction to a recorded turn", async () => {
    const { app, runtime, memory } = await setup();
    const turn = await runtime.turn({ id: "1", sessionId: "s", userId: userIdForToken(ALICE), text: "how do I reset a password" });
    const response = await app.inject({ method: "POST", url: "/feedback", headers: { authorization: `Bearer ${ALICE}` }, payload: { trace_id: turn.traceId, rating: -1, correction: "Use passwd." } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ type: "feedback-ack", trace_id: turn.traceId });
    const record = await memory.get(turn.traceId);
    expect(record).toMatchObject({ success: false, feedback: { rating: -1, correction: "Use passwd." } });
  });

  it("rejects bad bodies with FRAME_INVALID / FRAME_TOO_LARGE and unknown traces with 404, changing nothing", async () => {
    const { app, runtime, memory } = await setup();
    const turn = await runtime.turn({ id: "1", sessionId: "s", text: "q" });
    const before = await memory.get(turn.traceId);
    const cases: Array<{ payload: string; status: number; code: string }> = [
      { payload: "{not json", status: 400, code: "FRAME_INVALID" },
      { payload: JSON.stringify({ trace_id: turn.traceId, rating: 0 }), status: 400, code: "FRAME_INVALID" },
      { payload: JSON.stringify({ trace_id: turn.traceId }), status: 400, code: "FRAME_INVALID" },
      { payload: JSON.stringify({ type: "chat", trace_id: turn.traceId, rating: 1 }), status: 400, code: "FRAME_INVALID" },
      { payload: JSON.stringify({ trace_id: turn.traceId, rating: 1, extra: true }), status: 400, code: "FRAME_INVALID" },
      { payload: JSON.stringify({ trace_id: "no-such-trace", rating: -1 }), status: 404, code: "TRACE_NOT_FOUND" },
      { payload: JSON.stringify({ trace_id: turn.traceId, rating: -1, comment: "x".repeat(70_000) }), status: 413, code: "FRAME_TOO_LARGE" },
    ];
    for (const { payload, status, code } of cases) {
      const response = await app.inject({ method: "POST", url: "/feedback", headers: { "content-type": "application/json" }, payload });
      expect({ status: response.statusCode, code: response.json().code }).toEqual({ status, code });
      expect(response.json().type).toBe("error");
    }
    expect(await memory.get(turn.traceId)).toEqual(before);
  });

  it("requires a chat token when tokens are configured, and a user cannot rate another user's turn", async () => {
    const { app, runtime, memory } = await setup({ chatTokens: [ALICE, BOB] });
    const turn = await runtime.turn({ id: "1", sessionId: "s", userId: userIdForToken(ALICE), text: "q" });
    const body = { trace_id: turn.traceId, rating: -1, correction: "a verified correction" };
    expect((await app.inject({ method: "POST", url: "/feedback", payload: body })).statusCode).toBe(401);
    expect((await app.inject({ method: "POST", url: "/feedback", payload: body, headers: { authorization: "Bearer wrong" } })).json().code).toBe("UNAUTHORIZED");
    const asBob = await app.inject({ method: "POST", url: "/feedback", payload: body, headers: { authorization: `Bearer ${BOB}` } });
    expect({ status: asBob.statusCode, code: asBob.json().code }).toEqual({ status: 403, code: "FORBIDDEN" });
    expect((await memory.get(turn.traceId))?.feedback).toBeNull();
    const asAlice = await app.inject({ method: "POST", url: `/feedback?token=${ALICE}`, payload: body });
    expect(asAlice.statusCode).toBe(200);
    expect((await memory.get(turn.traceId))?.success).toBe(false);
    // A verified user's correction is not marked anonymous: the nightly harvest may train on it.
    expect((await memory.get(turn.traceId))?.feedback?.anonymous).toBeUndefined();
  });

  it("refuses to rate an anonymous turn over HTTP (no connection asked it), with or without a token", async () => {
    const { app, runtime, memory } = await setup();
    const turn = await runtime.turn({ id: "1", sessionId: "s", text: "q" });
    for (const headers of [{}, { authorization: `Bearer ${ALICE}` }]) {
      const response = await app.inject({ method: "POST", url: "/feedback", headers, payload: { trace_id: turn.traceId, rating: -1, correction: "steer me" } });
      expect({ status: response.statusCode, code: response.json().code }).toEqual({ status: 403, code: "FORBIDDEN" });
    }
    expect((await memory.get(turn.traceId))?.feedback).toBeNull();
  });

  it("rate-limits feedback floods per client address with RATE_LIMITED (429)", async () => {
    const memory = new FakeMemoryStore();
    const runtime = new FakeCouncilRuntime({ memory });
    server = await startTestServer({ runtime, listen: false, server: { messagesPerMinute: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      statuses.push((await server.app.inject({ method: "POST", url: "/feedback", payload: { trace_id: "nope", rating: 1 } })).statusCode);
    }
    expect(statuses).toEqual([404, 404, 404, 429, 429]);
  });
});

describe("GET /api/traces/:id", () => {
  it("needs the admin token and returns the recorded turn", async () => {
    const { app, runtime } = await setup();
    const turn = await runtime.turn({ id: "1", sessionId: "s", text: "where are the logs" });
    expect((await app.inject({ method: "GET", url: `/api/traces/${turn.traceId}` })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: `/api/traces/${turn.traceId}`, headers: { authorization: "Bearer not-the-admin" } })).statusCode).toBe(401);
    expect((await app.inject({ method: "GET", url: `/api/traces/${turn.traceId}?token=${ADMIN}` })).statusCode).toBe(401);
    const ok = await app.inject({ method: "GET", url: `/api/traces/${turn.traceId}`, headers: { authorization: `Bearer ${ADMIN}` } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ traceId: turn.traceId, question: "where are the logs", answer: "You asked: where are the logs" });
    const missing = await app.inject({ method: "GET", url: "/api/traces/unknown", headers: { authorization: `Bearer ${ADMIN}` } });
    expect({ status: missing.statusCode, code: missing.json().code }).toEqual({ status: 404, code: "TRACE_NOT_FOUND" });
  });

  it("answers a too-long trace id with typed JSON errors, not fastify's 414", async () => {
    const { app } = await setup();
    const headers = { authorization: `Bearer ${ADMIN}` };
    const long = await app.inject({ method: "GET", url: `/api/traces/${"t".repeat(150)}`, headers });
    expect({ status: long.statusCode, code: long.json().code }).toEqual({ status: 404, code: "TRACE_NOT_FOUND" });
    const tooLong = await app.inject({ method: "GET", url: `/api/traces/${"t".repeat(201)}`, headers });
    expect({ status: tooLong.statusCode, code: tooLong.json().code }).toEqual({ status: 400, code: "FRAME_INVALID" });
    const huge = await app.inject({ method: "GET", url: `/api/traces/${"t".repeat(5000)}`, headers });
    expect({ status: huge.statusCode, type: huge.json().type, code: huge.json().code }).toEqual({ status: 400, type: "error", code: "FRAME_INVALID" });
    const badEncoding = await app.inject({ method: "GET", url: "/api/traces/%E0%A4%A", headers });
    expect({ status: badEncoding.statusCode, code: badEncoding.json().code }).toEqual({ status: 400, code: "FRAME_INVALID" });
  });

  it("answers 429 with retry-after after 10 wrong admin tokens from one address, even to the right one, and counts them", async () => {
    let now = 1_000_000;
    const { app, metrics } = await setup({ now: () => now });
    const attempt = (token: string) => app.inject({ method: "GET", url: "/api/traces/x", headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 10; i++) expect((await attempt(`guess-${i}`)).statusCode).toBe(401);
    const limited = await attempt(ADMIN);
    expect({ status: limited.statusCode, code: limited.json().code }).toEqual({ status: 429, code: "RATE_LIMITED" });
    expect(limited.headers["retry-after"]).toBe("6");
    expect(await metrics.registry.getSingleMetricAsString("council_auth_failures_total")).toContain('council_auth_failures_total{kind="admin"} 10');
    // Another address is not affected.
    expect((await app.inject({ method: "GET", url: "/api/traces/x", remoteAddress: "10.0.0.2", headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(404);
    now += 6_000;
    expect((await attempt(ADMIN)).statusCode).toBe(404);
  });

  it("logs each failed token check with its kind and address, never the token", async () => {
    const lines: string[] = [];
    const destination = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const config = loadConfig({ env: {}, overrides: { server: { adminToken: ADMIN, chatTokens: [ALICE] } } });
    const app = await buildApp({ config, runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), metrics: createMetrics({ registry: new Registry(), defaultMetrics: false }), logger: createLogger({ logLevel: "warn" }, destination) });
    try {
      await app.inject({ method: "GET", url: "/api/traces/x", headers: { authorization: "Bearer wrong-admin-guess" } });
      await app.inject({ method: "POST", url: "/feedback?token=wrong-chat-guess", payload: { trace_id: "x", rating: 1 } });
    } finally {
      await app.close();
    }
    const failures = lines.map((line) => JSON.parse(line)).filter((entry) => entry.msg === "token check failed");
    expect(failures).toMatchObject([{ kind: "admin", reason: "wrong", ip: "127.0.0.1" }, { kind: "chat", reason: "wrong", ip: "127.0.0.1" }]);
    expect(lines.join("")).not.toMatch(/wrong-admin-guess|wrong-chat-guess/);
  });

  it("is disabled (401) when no admin token is configured", async () => {
    const memory = new FakeMemoryStore();
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory }), listen: false });
    const response = await server.app.inject({ method: "GET", url: "/api/traces/x", headers: { authorization: "Bearer anything-at-all" } });
    expect(response.statusCode).toBe(401);
    expect(response.json().message).toContain("COUNCIL_ADMIN_TOKEN");
  });
});

describe("web page and unknown routes", () => {
  it("serves the chat page and its script with a strict CSP, and NOT_FOUND elsewhere", async () => {
    const { app } = await setup();
    const page = await app.inject({ method: "GET", url: "/" });
    expect(page.statusCode).toBe(200);
    expect(page.headers["content-type"]).toContain("text/html");
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.body).toContain('src="/chat.js"');
    const script = await app.inject({ method: "GET", url: "/chat.js" });
    expect(script.body).toContain("new WebSocket(chatUrl)");
    expect(script.body).not.toContain("innerHTML");
    const missing = await app.inject({ method: "GET", url: "/nope?token=secret" });
    expect({ status: missing.statusCode, code: missing.json().code }).toEqual({ status: 404, code: "NOT_FOUND" });
    expect(missing.body).not.toContain("secret");
  });

  it("disposes the runtime when the app closes", async () => {
    const { runtime } = await setup();
    await server!.close();
    server = undefined;
    expect(runtime.disposed).toBe(true);
  });
});
