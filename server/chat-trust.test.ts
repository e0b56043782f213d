import { afterEach, describe, expect, it } from "vitest";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { ChatClient, startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { RATE_LIMITED_REPLIES_PER_MINUTE } from "./chat-connection.js";
import type { ServerFrame } from "./frames.js";

const ALICE = "alice-chat-token-0001";
const BOB = "bob-chat-token-000002";
let server: TestServer | undefined;
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.socket.terminate();
  await server?.close();
  server = undefined;
});

async function setup({ server: serverOptions = {}, now }: { server?: Parameters<typeof startTestServer>[0]["server"]; now?: () => number } = {}) {
  const memory = new FakeMemoryStore();
  const runtime = new FakeCouncilRuntime({ memory });
  server = await startTestServer({ runtime, server: serverOptions, ...(now ? { now } : {}) });
  return { runtime, memory, server };
}

async function connect(url: string, options = {}): Promise<ChatClient> {
  const client = await ChatClient.connect(url, options);
  clients.push(client);
  return client;
}

const traceOf = (frame: ServerFrame) => (frame.type === "final" ? frame.trace_id : "");

async function counter(target: TestServer, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await target.metrics.registry.getSingleMetric(name)!.get();
  return metric.values.find((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))?.value ?? 0;
}

describe("session history is per user", () => {
  it("two anonymous connections sending the same session_id get different sessions; one connection keeps its own", async () => {
    const { server, runtime } = await setup();
    const first = await connect(server.wsUrl);
    const second = await connect(server.wsUrl);
    await first.ask("1", "my password is hunter2", { session_id: "web-shared" });
    await second.ask("2", "what did I say?", { session_id: "web-shared" });
    await first.ask("3", "and again", { session_id: "web-shared" });
    const [a, b, c] = runtime.requests;
    expect(b!.sessionId).not.toBe(a!.sessionId);
    expect(c!.sessionId).toBe(a!.sessionId);
    expect(runtime.sessions.get(b!.sessionId)).toEqual(["what did I say?"]);
  });
});

describe("Origin allow-list at the upgrade", () => {
  it("refuses a foreign browser origin with 403 and admits no Origin, the server's own and configured ones", async () => {
    const { server } = await setup({ server: { allowedOrigins: ["https://chat.example.com"] } });
    await expect(ChatClient.connect(server.wsUrl, { origin: "https://evil.example" })).rejects.toMatchObject({ statusCode: 403 });
    await expect(ChatClient.connect(server.wsUrl, { origin: "null" })).rejects.toMatchObject({ statusCode: 403 });
    await expect(ChatClient.connect(server.wsUrl, { origin: "https://chat.example.com.evil.example" })).rejects.toMatchObject({ statusCode: 403 });
    const own = await connect(server.wsUrl, { origin: server.httpUrl });
    const configured = await connect(server.wsUrl, { origin: "https://chat.example.com" });
    const cli = await connect(server.wsUrl);
    for (const [i, client] of [own, configured, cli].entries()) expect((await client.ask(`${i}`, "hi")).end.type).toBe("final");
  });
});

describe("feedback only from whoever asked", () => {
  it("an anonymous turn can be rated only on the connection that asked it; the correction is marked anonymous", async () => {
    const { server, memory } = await setup();
    const asker = await connect(server.wsUrl);
    const stranger = await connect(server.wsUrl);
    const traceId = traceOf((await asker.ask("1", "how do I free disk space")).end);
    stranger.send({ type: "feedback", trace_id: traceId, rating: -1, correction: "rm -rf /" });
    expect(await stranger.next()).toMatchObject({ type: "error", code: "FORBIDDEN" });
    expect((await memory.get(traceId))?.feedback).toBeNull();
    asker.send({ type: "feedback", trace_id: traceId, rating: -1, correction: "Run du -sh * and delete what you do not need." });
    expect(await asker.next()).toEqual({ type: "feedback-ack", trace_id: traceId });
    expect((await memory.get(traceId))?.feedback).toMatchObject({ rating: -1, anonymous: true });
  });

  it("a user's turn can be rated by that user from any connection, by nobody else", async () => {
    const { server, memory } = await setup({ server: { chatTokens: [ALICE, BOB] } });
    const alice = await connect(`${server.wsUrl}?token=${ALICE}`);
    const traceId = traceOf((await alice.ask("1", "how do I list files")).end);
    const bob = await connect(`${server.wsUrl}?token=${BOB}`);
    bob.send({ type: "feedback", trace_id: traceId, rating: -1, correction: "wrong on purpose" });
    expect(await bob.next()).toMatchObject({ type: "error", code: "FORBIDDEN" });
    expect((await memory.get(traceId))?.feedback).toBeNull();
    const aliceLater = await connect(server.wsUrl, { headers: { authorization: `Bearer ${ALICE}` } });
    aliceLater.send({ type: "feedback", trace_id: traceId, rating: -1, correction: "ls -la" });
    expect(await aliceLater.next()).toEqual({ type: "feedback-ack", trace_id: traceId });
    const feedback = (await memory.get(traceId))?.feedback;
    expect(feedback).toMatchObject({ rating: -1, correction: "ls -la" });
    expect(feedback?.anonymous).toBeUndefined();
  });
});

describe("floods and token guessing", () => {
  it(`closes a flooding connection with 1008 after ${RATE_LIMITED_REPLIES_PER_MINUTE} RATE_LIMITED replies, each naming its question`, async () => {
    const { server } = await setup({ server: { messagesPerMinute: 3 }, now: () => 1_000_000 });
    const flooder = await connect(server.wsUrl);
    for (let i = 0; i < 1_000; i++) flooder.send({ type: "chat", id: `f${i}`, text: "q" });
    const closed = await Promise.race([flooder.closed, new Promise((resolve) => setTimeout(() => resolve("still open"), 5_000))]);
    expect(closed).toMatchObject({ code: 1008 });
    const limited = flooder.frames.filter((frame) => frame.type === "error" && frame.code === "RATE_LIMITED");
    expect(limited).toHaveLength(RATE_LIMITED_REPLIES_PER_MINUTE);
    expect(limited.map((frame) => (frame.type === "error" ? frame.id : undefined))).toEqual(Array.from({ length: RATE_LIMITED_REPLIES_PER_MINUTE }, (_, i) => `f${i + 3}`));
    const other = await connect(server.wsUrl);
    expect((await other.ask("o", "q")).end.type).toBe("final");
  });

  it("answers 429 after 10 wrong chat tokens from one address, even to a right one, counts and lets it in once the minute refills", async () => {
    let now = 1_000_000;
    const { server } = await setup({ server: { chatTokens: [ALICE] }, now: () => now });
    for (let i = 0; i < 10; i++) await expect(ChatClient.connect(`${server.wsUrl}?token=guess-${i}-xxxxxxxxxxxx`)).rejects.toMatchObject({ statusCode: 401 });
    await expect(ChatClient.connect(`${server.wsUrl}?token=guess-10-xxxxxxxxxxxx`)).rejects.toMatchObject({ statusCode: 429 });
    await expect(ChatClient.connect(`${server.wsUrl}?token=${ALICE}`)).rejects.toMatchObject({ statusCode: 429 });
    expect(await counter(server, "council_auth_failures_total", { kind: "chat" })).toBe(10);
    now += 6_000;
    expect((await (await connect(`${server.wsUrl}?token=${ALICE}`)).ask("1", "hi")).end.type).toBe("final");
  });
});
