import { describe, expect, it } from "vitest";
import { createMetrics, loadConfig, Registry, silentLogger } from "../core/index.js";
import type { CouncilRuntime } from "../council/types.js";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { ChatClient } from "../test/helpers/chat-server.js";
import { startServer } from "./start-server.js";

const config = loadConfig({ env: {}, overrides: { logLevel: "silent", server: { host: "127.0.0.1", port: 0 } } });
const metrics = () => createMetrics({ registry: new Registry(), defaultMetrics: false });

describe("startServer (npx council serve)", () => {
  it("listens while the council loads: /health 503 and BACKEND_UNAVAILABLE frames, then 200 and answers", async () => {
    let finishLoading!: (runtime: CouncilRuntime) => void;
    const loading = new Promise<CouncilRuntime>((resolve) => (finishLoading = resolve));
    const server = await startServer({ config, logger: silentLogger, metrics: metrics(), loading });
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${server.url}/health`)).status).toBe(503);
      const client = await ChatClient.connect(`${server.url.replace("http", "ws")}/chat`);
      expect((await client.ask("early", "too soon")).end).toMatchObject({ type: "error", id: "early", code: "BACKEND_UNAVAILABLE" });
      const runtime = new FakeCouncilRuntime({ memory: new FakeMemoryStore() });
      finishLoading(runtime);
      await server.loaded;
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      expect((await client.ask("ready", "now?")).end.type).toBe("final");
      await client.close();
      await server.stop();
      expect(runtime.disposed).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it("stops the server and rejects `loaded` when the council fails to load", async () => {
    const server = await startServer({ config, logger: silentLogger, metrics: metrics(), loading: Promise.reject(new Error("no model")) });
    await expect(server.loaded).rejects.toThrow("no model");
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });
});
