import { afterEach, describe, expect, it } from "vitest";
import { CouncilError, silentLogger } from "../core/index.js";
import type { RunSummary } from "../council/index.js";
import { FakeMemoryStore } from "../test/fakes/index.js";
import { FakeCouncilRuntime } from "../test/fakes/fake-runtime.js";
import { startTestServer, type TestServer } from "../test/helpers/chat-server.js";
import { deferredImprovement } from "./deferred-runtime.js";
import { buildApp } from "./build-app.js";
import type { ImprovementControl } from "./plugins/improve-routes.js";

const ADMIN = "improve-admin-token";
let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("admin API of the nightly loop, wired by buildApp", () => {
  it("is absent without an improvement service, and served (admin only) with one", async () => {
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), listen: false, server: { adminToken: ADMIN } });
    expect((await server.app.inject({ method: "POST", url: "/api/improve/runs", headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(404);
    await server.close();

    const summary = { runId: "run-1", outcome: "nothing-to-do" } as unknown as RunSummary;
    const calls: string[] = [];
    const improvement: ImprovementControl = {
      runOnce: async () => (calls.push("run"), summary),
      approve: async ({ runId }) => (calls.push(`approve ${runId}`), summary),
      runs: async () => [summary],
      reloadAdapters: async () => ({ version: null, changed: false }),
    };
    const { config, metrics } = server;
    const app = await buildApp({ config, runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), metrics, logger: silentLogger, improvement });
    server = { ...server, app, close: () => app.close() };
    expect((await app.inject({ method: "POST", url: "/api/improve/runs" })).statusCode).toBe(401);
    const started = await app.inject({ method: "POST", url: "/api/improve/runs", headers: { authorization: `Bearer ${ADMIN}` }, payload: {} });
    expect(started.statusCode).toBe(202);
    expect(started.json()).toMatchObject({ running: false, summary: { runId: "run-1" }, error: null });
    expect((await app.inject({ method: "GET", url: "/api/improve/job", headers: { authorization: `Bearer ${ADMIN}` } })).json()).toMatchObject({ summary: { runId: "run-1" } });
    expect(calls).toEqual(["run"]);
  });

  it("answers 409 RUN_LOCKED when another run holds the lock, in this process or another", async () => {
    server = await startTestServer({ runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), listen: false, server: { adminToken: ADMIN } });
    let finish!: () => void;
    let calls = 0;
    const improvement: ImprovementControl = {
      runOnce: async () => {
        calls += 1;
        // The first run is held by another process (the file lock); the second one keeps running here.
        if (calls === 1) throw new CouncilError("RUN_LOCKED", "Another improvement run holds the lock.");
        await new Promise<void>((resolve) => (finish = resolve));
        return { runId: "run-2", outcome: "nothing-to-do" } as unknown as RunSummary;
      },
      approve: async () => ({}) as RunSummary,
      runs: async () => [],
      reloadAdapters: async () => ({ version: null, changed: false }),
    };
    const { config, metrics } = server;
    await server.close();
    const app = await buildApp({ config, runtime: new FakeCouncilRuntime({ memory: new FakeMemoryStore() }), metrics, logger: silentLogger, improvement });
    server = { ...server, app, close: () => app.close() };
    const start = () => app.inject({ method: "POST", url: "/api/improve/runs", headers: { authorization: `Bearer ${ADMIN}` }, payload: {} });
    const elsewhere = await start();
    expect({ status: elsewhere.statusCode, code: elsewhere.json().code }).toEqual({ status: 409, code: "RUN_LOCKED" });
    expect((await start()).statusCode).toBe(202);
    const here = await start();
    expect({ status: here.statusCode, code: here.json().code }).toEqual({ status: 409, code: "RUN_LOCKED" });
    finish();
  });

  it("deferredImprovement answers BACKEND_UNAVAILABLE while loading and when the backend has no adapters", async () => {
    let finish!: (value: { improvement: null; serving: null }) => void;
    const control = deferredImprovement(new Promise((resolve) => (finish = resolve)));
    await expect(control.runOnce()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE", message: expect.stringContaining("loading") });
    finish({ improvement: null, serving: null });
    await new Promise((resolve) => setImmediate(resolve));
    await expect(control.runs()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE", message: expect.stringContaining("LoRA") });
    await expect(control.reloadAdapters()).rejects.toMatchObject({ code: "BACKEND_UNAVAILABLE" });
  });
});
