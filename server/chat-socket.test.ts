import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime, type FakeCouncilRuntimeOptions } from "../test/fakes/fake-runtime.js";
import { ChatClient, startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { userIdForToken } from "./auth.js";
import { MAX_IN_FLIGHT_PER_CONNECTION } from "./chat-connection.js";

const GOOD_TOKEN = "good-chat-token-0001";
let server: TestServer | undefined;
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await server?.close();
  server = undefined;
  vi.useRealTimers();
});

async function setup({ runtime: runtimeOptions = {}, server: serverOptions = {}, now }: { runtime?: Partial<FakeCouncilRuntimeOptions>; server?: Parameters<typeof startTestServer>[0]["server"]; now?: () => number } = {}) {
  const memory = new FakeMemoryStore();
  const runtime = new FakeCouncilRuntime({ memory, ...runtimeOptions });
  server = await startTestServer({ runtime, server: serverOptions, ...(now ? { now } : {}) });
  return { runtime, memory, server };
}

async function connect(url: string, options = {}): Promise<ChatClient> {
  const client = await ChatClient.connect(url, options);
  clients.push(client);
  return client;
}

async function gauge(target: TestServer, name: string): Promise<number> {
  const metric = await target.metrics.registry.getSingleMetric(name)!.get();
  return metric.values[0]?.value ?? 0;
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("chat frames", () => {
  it("streams token frames, then a final frame whose answer is the tokens joined", async () => {
    const { server, runtime, memory } = await setup();
    const client = await connect(server.wsUrl);
    const { tokens, end } = await client.ask("q1", "how do I list files");
    expect(tokens.length).toBeGreaterThan(1);
    expect(end).toMatchObject({ type: "final", id: "q1", answer: "You asked: how do I list files", score: 0.9, success: true, route: "general", adapter: null });
    expect(tokens.join("")).toBe(end.type === "final" ? end.answer : "");
    const traceId = end.type === "final" ? end.trace_id : "";
    expect(await memory.get(traceId)).toMatchObject({ question: "how do I list files", userId: null });
    expect(runtime.requests[0]).toMatchObject({ id: "q1", text: "how do I list files" });
  });

  it("keeps one session per connection by default, honours session_id, and names the user by a token hash", async () => {
    const { server, runtime } = await setup();
    const first = await connect(`${server.wsUrl}?token=alice-secret`);
    const second = await connect(server.wsUrl);
    await first.ask("1", "one");
    await first.ask("2", "two");
    await second.ask("3", "three");
    await second.ask("4", "four", { session_id: "shared-session" });
    await first.ask("5", "five", { session_id: "shared-session" });
    const [a, b, c, d, e] = runtime.requests;
    expect(a!.sessionId).toBe(b!.sessionId);
    expect(c!.sessionId).not.toBe(a!.sessionId);
    // A user's session id is kept as sent; an anonymous connection's is scoped to the connection.
    expect(e!.sessionId).toBe("shared-session");
    expect(d!.sessionId).toBe(`${c!.sessionId}:shared-session`);
    expect(runtime.sessions.get(a!.sessionId)).toEqual(["one", "two"]);
    expect(a!.userId).toBe(userIdForToken("alice-secret"));
    expect(a!.userId).not.toContain("alice-secret");
    expect(c!.userId).toBeUndefined();
  });

  it("acknowledges feedback frames and flips the success flag in memory", async () => {
    const { server, memory } = await setup();
    const client = await connect(server.wsUrl);
    const { end } = await client.ask("1", "why is the disk full");
    const traceId = end.type === "final" ? end.trace_id : "";
    client.send({ type: "feedback", trace_id: traceId, rating: -1, comment: "wrong", correction: "Run du -sh *" });
    expect(await client.next()).toEqual({ type: "feedback-ack", trace_id: traceId });
    expect(await memory.get(traceId)).toMatchObject({ success: false, feedback: { rating: -1, comment: "wrong", correction: "Run du -sh *" } });
    client.send({ type: "feedback", trace_id: traceId, rating: 1 });
    expect(await client.next()).toEqual({ type: "feedback-ack", trace_id: traceId });
    expect((await memory.get(traceId))?.feedback?.rating).toBe(1);
  });

  it("answers every kind of bad input with an error frame, keeps the connection, and leaves memory unchanged", async () => {
    const { server, memory } = await setup();
    const client = await connect(server.wsUrl);
    const { end } = await client.ask("ok", "a real question");
    const traceId = end.type === "final" ? end.trace_id : "";
    const before = { counts: memory.counts(), record: await memory.get(traceId) };
    const bad: Array<[unknown, string]> = [
      ["{not json", "FRAME_INVALID"],
      ["[]", "FRAME_INVALID"],
      ["null", "FRAME_INVALID"],
      [{ type: "shout", id: "1", text: "hi" }, "FRAME_INVALID"],
      [{ type: "chat", text: "no id" }, "FRAME_INVALID"],
      [{ type: "chat", id: "1" }, "FRAME_INVALID"],
      [{ type: "chat", id: "1", text: "   " }, "FRAME_INVALID"],
      [{ type: "chat", id: "1", text: "hi", admin: true }, "FRAME_INVALID"],
      [{ type: "chat", id: "1", text: "hi", session_id: "../../etc" }, "FRAME_INVALID"],
      [{ type: "feedback", trace_id: traceId, rating: 5 }, "FRAME_INVALID"],
      [{ type: "feedback", rating: 1 }, "FRAME_INVALID"],
      [{ type: "feedback", trace_id: "no-such-trace", rating: -1 }, "TRACE_NOT_FOUND"],
    ];
    for (const [frame, code] of bad) {
      client.send(frame);
      const reply = await client.next();
      expect(reply, JSON.stringify(frame)).toMatchObject({ type: "error", code });
      if (reply.type === "error") expect(reply.message.length).toBeGreaterThan(5);
    }
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    expect(await client.next()).toMatchObject({ type: "error", code: "FRAME_INVALID" });
    expect(memory.counts()).toEqual(before.counts);
    expect(await memory.get(traceId)).toEqual(before.record);
    const after = await client.ask("still", "still alive?");
    expect(after.end.type).toBe("final");
  });

  it("reports a runtime failure as an error frame with the request id and its code", async () => {
    const { server, runtime } = await setup();
    runtime.turn = async () => {
      throw new Error("kaboom");
    };
    const client = await connect(server.wsUrl);
    const { end } = await client.ask("x", "question");
    expect(end).toMatchObject({ type: "error", id: "x", code: "INTERNAL" });
    expect(end.type === "error" ? end.message : "").not.toContain("kaboom");
  });
});

describe("auth at the upgrade", () => {
  it("answers 401 before any frame when a configured chat token is missing or wrong", async () => {
    const { server } = await setup({ server: { chatTokens: [GOOD_TOKEN] } });
    await expect(ChatClient.connect(server.wsUrl)).rejects.toMatchObject({ statusCode: 401 });
    await expect(ChatClient.connect(`${server.wsUrl}?token=bad-token`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(ChatClient.connect(server.wsUrl, { headers: { authorization: "Bearer bad-token" } })).rejects.toMatchObject({ statusCode: 401 });
    expect(await gauge(server, "council_ws_connections")).toBe(0);
    const byQuery = await connect(`${server.wsUrl}?token=${GOOD_TOKEN}`);
    const byHeader = await connect(server.wsUrl, { headers: { authorization: `Bearer ${GOOD_TOKEN}` } });
    expect((await byQuery.ask("1", "hi")).end.type).toBe("final");
    expect((await byHeader.ask("2", "hi")).end.type).toBe("final");
    expect(await gauge(server, "council_ws_connections")).toBe(2);
  });
});

describe("limits", () => {
  it("closes with 1009 on a frame above maxFrameBytes and keeps serving others", async () => {
    const { server, memory } = await setup({ server: { maxFrameBytes: 1024 } });
    const client = await connect(server.wsUrl);
    client.send({ type: "chat", id: "big", text: "x".repeat(2000) });
    expect((await client.closed).code).toBe(1009);
    expect(memory.counts().total).toBe(0);
    const other = await connect(server.wsUrl);
    expect((await other.ask("1", "small")).end.type).toBe("final");
    await until(async () => (await gauge(server, "council_ws_connections")) === 1);
  });

  it("rate-limits one connection with RATE_LIMITED frames and lets it go on once the window refills", async () => {
    let now = 1_000_000;
    const { server, runtime } = await setup({ server: { messagesPerMinute: 3 }, now: () => now });
    const client = await connect(server.wsUrl);
    for (let i = 0; i < 3; i++) expect((await client.ask(`${i}`, "q")).end.type).toBe("final");
    client.send({ type: "chat", id: "flood", text: "q" });
    // The error names the dropped question, so the client knows which one to send again.
    expect(await client.next()).toMatchObject({ type: "error", id: "flood", code: "RATE_LIMITED" });
    client.send({ type: "feedback", trace_id: "x", rating: -1 });
    expect(await client.next()).toEqual({ type: "error", code: "RATE_LIMITED", message: expect.any(String) });
    expect(runtime.requests).toHaveLength(3);
    const other = await connect(server.wsUrl);
    expect((await other.ask("o", "q")).end.type).toBe("final");
    now += 20_000;
    expect((await client.ask("later", "q")).end.type).toBe("final");
  });

  it("answers BUSY at once when the generation queue is full, and serves the queued turns later", async () => {
    const { server, runtime } = await setup({ runtime: { hold: true }, server: { queueMax: 1 } });
    expect(server.config.model.parallel).toBe(2);
    const client = await connect(server.wsUrl);
    for (const id of ["a", "b", "c"]) client.send({ type: "chat", id, text: id });
    await until(() => runtime.held === 2);
    await until(async () => (await gauge(server, "council_queue_depth")) === 3);
    client.send({ type: "chat", id: "d", text: "d" });
    // Nothing has finished yet (no turn time to estimate from): the full queue says "retry in 1 s".
    expect(await client.next()).toMatchObject({ type: "error", id: "d", code: "BUSY", retry_after_s: 1 });
    expect(await server.metrics.registry.getSingleMetricAsString("council_requests_total")).toContain('outcome="busy"} 1');
    runtime.release();
    await until(() => runtime.held === 1);
    runtime.release();
    for (const id of ["a", "b", "c"]) expect(await client.next((f) => f.type === "final" && f.id === id)).toBeTruthy();
    expect(await gauge(server, "council_queue_depth")).toBe(0);
  });

  it("answers BUSY when one connection already has its maximum of questions in flight; others still get in", async () => {
    // Admission by expected wait off: nothing has finished yet, so it would admit only one round of waiting turns.
    const { server, runtime } = await setup({ runtime: { hold: true }, server: { queueMax: 32, queueMaxWaitSeconds: 0 } });
    const greedy = await connect(server.wsUrl);
    for (let i = 0; i < MAX_IN_FLIGHT_PER_CONNECTION + 1; i++) greedy.send({ type: "chat", id: `g${i}`, text: "q" });
    expect(await greedy.next()).toMatchObject({ type: "error", id: `g${MAX_IN_FLIGHT_PER_CONNECTION}`, code: "BUSY" });
    const other = await connect(server.wsUrl);
    other.send({ type: "chat", id: "o", text: "q" });
    // The other client's question is queued, not refused: 4 from greedy + 1 waiting or running.
    await until(async () => (await gauge(server, "council_queue_depth")) === MAX_IN_FLIGHT_PER_CONNECTION + 1);
    expect(other.frames).toEqual([]);
    await until(() => {
      runtime.release();
      return other.frames.some((frame) => frame.type === "final");
    });
    expect(await other.next((frame) => frame.type === "final")).toMatchObject({ id: "o" });
  });

  it("drops a client that stops reading once its outbound buffer passes the cap", async () => {
    const big = "y".repeat(16 * 1024);
    const { server } = await setup({ runtime: { answer: () => Array.from({ length: 1500 }, () => big).join(" ") }, server: { maxBufferedBytes: 64 * 1024 } });
    const slow = await connect(server.wsUrl);
    // Stop reading: the TCP window fills, then the server's outbound buffer.
    (slow.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    slow.send({ type: "chat", id: "flood", text: "stream a lot" });
    await until(async () => (await gauge(server, "council_ws_connections")) === 0, 20_000);
    const fresh = await connect(server.wsUrl);
    fresh.send({ type: "feedback", trace_id: "none", rating: 1 });
    expect(await fresh.next()).toMatchObject({ code: "TRACE_NOT_FOUND" });
  }, 30_000);

  it("terminates peers that stop answering pings, keeps live ones", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    const { server } = await setup({ server: { heartbeatSeconds: 30 } });
    const live = await connect(server.wsUrl);
    const dead = await connect(server.wsUrl, { autoPong: false });
    const pinged = new Promise((resolve) => live.socket.once("ping", resolve));
    vi.advanceTimersByTime(30_000);
    await pinged;
    // ws answers the ping before emitting "ping"; a reply to a later frame proves the server read the pong.
    expect((await live.ask("1", "after the ping")).end.type).toBe("final");
    vi.advanceTimersByTime(30_000);
    expect((await dead.closed).code).toBe(1006);
    expect(live.socket.readyState).toBe(live.socket.OPEN);
    expect((await live.ask("2", "still here")).end.type).toBe("final");
  });
});

describe("lifecycle", () => {
  it("cancels a turn when its client disconnects", async () => {
    const { server, runtime } = await setup({ runtime: { hold: true } });
    const client = await connect(server.wsUrl);
    client.send({ type: "chat", id: "1", text: "q" });
    await until(() => runtime.held === 1);
    await client.close();
    await until(() => runtime.requests[0]!.signal!.aborted);
    runtime.release();
    await until(async () => (await gauge(server, "council_queue_depth")) === 0);
  });

  it("closing the app closes sockets, cancels waiting turns and disposes the runtime", async () => {
    const { server, runtime } = await setup({ runtime: { hold: true }, server: { queueMax: 4 } });
    const client = await connect(server.wsUrl);
    for (const id of ["1", "2", "3"]) client.send({ type: "chat", id, text: id });
    await until(() => runtime.held === 2);
    const closing = server.close();
    expect((await client.closed).code).toBe(1001);
    runtime.release();
    await closing;
    expect(runtime.disposed).toBe(true);
  });
});
