import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { askOverWebSocket } from "./chat-client.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("askOverWebSocket (npx council ask)", () => {
  it("streams tokens and resolves with the final frame", async () => {
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), server: { chatTokens: ["t0ken-t0ken-t0ken"] } });
    const tokens: string[] = [];
    const final = await askOverWebSocket({ url: server.wsUrl, text: "where are logs", token: "t0ken-t0ken-t0ken", sessionId: "cli", onToken: (text) => tokens.push(text) });
    expect(final).toMatchObject({ type: "final", id: "1", answer: "You asked: where are logs", success: true });
    expect(tokens.join("")).toBe(final.answer);
  });

  it("rejects with UNAUTHORIZED on a 401 upgrade, the error frame's code, and BACKEND_UNAVAILABLE when nothing listens", async () => {
    const runtime = new FakeCouncilRuntime({ memory: new FakeMemoryStore() });
    server = await startTestServer({ runtime, server: { chatTokens: ["t0ken-t0ken-t0ken"] } });
    await expect(askOverWebSocket({ url: server.wsUrl, text: "q", token: "wrong" })).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(askOverWebSocket({ url: server.wsUrl, text: " ", token: "t0ken-t0ken-t0ken" })).rejects.toMatchObject({ code: "FRAME_INVALID" });
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
      });
    });
    await expect(askOverWebSocket({ url: `ws://127.0.0.1:${port}/chat`, text: "q" })).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });

  it("times out with TIMEOUT when no final frame comes", async () => {
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore(), hold: true }) });
    await expect(askOverWebSocket({ url: server.wsUrl, text: "q", timeoutMs: 200 })).rejects.toMatchObject({ code: "TIMEOUT" });
  });
});
