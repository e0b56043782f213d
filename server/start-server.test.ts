import { createServer, type AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createMetrics, isCouncilError, loadConfig, Registry, silentLogger } from "../core/index.js";
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

  it("throws PORT_IN_USE on a busy port without starting to load the council", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    try {
      const port = (blocker.address() as AddressInfo).port;
      const busy = loadConfig({ env: {}, overrides: { logLevel: "silent", server: { host: "127.0.0.1", port } } });
      let loads = 0;
      const loading = async () => {
        loads++;
        return new FakeCouncilRuntime({ memory: new FakeMemoryStore() }) as CouncilRuntime;
      };
      const error = await startServer({ config: busy, logger: silentLogger, metrics: metrics(), loading }).catch((caught: unknown) => caught);
      expect(isCouncilError(error, "PORT_IN_USE")).toBe(true);
      expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      expect(loads).toBe(0);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it("with a loading function, loads the council once the port is bound", async () => {
    let loads = 0;
    const runtime = new FakeCouncilRuntime({ memory: new FakeMemoryStore() });
    const server = await startServer({ config, logger: silentLogger, metrics: metrics(), loading: async () => (loads++, runtime) });
    try {
      await server.loaded;
      expect(loads).toBe(1);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});
