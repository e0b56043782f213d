import { chmod, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../core/index.js";
import { runCli } from "../../test/helpers/run-cli.js";
import { ensureAdminTokenFile, readAdminTokenFile, resolveRunTarget, writeServerInfo } from "./local-server.js";
import { viaServer } from "./nightly.js";

/** A fake "server" on a real loopback socket that records every request it gets. */
async function fakeServer(answer: (path: string) => { status: number; body: unknown }) {
  const requests: Array<{ method: string; path: string; headers: IncomingHttpHeaders }> = [];
  const server: Server = createServer((request, response) => {
    requests.push({ method: request.method ?? "", path: request.url ?? "", headers: request.headers });
    request.resume();
    request.on("end", () => {
      const { status, body } = answer(request.url ?? "");
      response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return { port, requests, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const INSTANCE = "0123456789abcdef0123456789abcdef";
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "council-local-server-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const configFor = (dir: string, port: number, adminToken?: string) => loadConfig({ env: {}, overrides: { dataDir: dir, server: { port, ...(adminToken ? { adminToken } : {}) } } });

describe("the CLI verifies the server of its data dir before it sends the admin token", () => {
  it("`nightly --once` never sends the token to a port that answers 404, even with COUNCIL_ADMIN_TOKEN and COUNCIL_PORT pointing at it", async () => {
    const fake = await fakeServer(() => ({ status: 404, body: { code: "NOT_FOUND" } }));
    cleanups.push(fake.close);
    const dir = await dataDir();
    writeServerInfo(dir, { pid: process.pid, host: "127.0.0.1", port: fake.port, instanceId: INSTANCE, startedAt: Date.now() });
    const result = await runCli(["nightly", "--once", "--json"], { COUNCIL_DATA_DIR: dir, COUNCIL_PORT: String(fake.port), COUNCIL_ADMIN_TOKEN: "very-secret-admin-token", COUNCIL_LOG_LEVEL: "silent" });
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("SERVER_UNVERIFIED");
    expect(fake.requests.length).toBeGreaterThan(0);
    expect(fake.requests.map((r) => r.headers.authorization)).toEqual(fake.requests.map(() => undefined));
    expect(JSON.stringify(fake.requests)).not.toContain("very-secret-admin-token");
  });

  it("a server reporting another instance id gets no token; the right id gets the token from <dataDir>/admin-token", async () => {
    let instance = "ffffffffffffffffffffffffffffffff";
    const fake = await fakeServer((path) =>
      path === "/health" ? { status: 200, body: { status: "ok", instance } } : { status: 202, body: { running: false, summary: { runId: "run-1", outcome: "nothing-to-do" }, error: null } },
    );
    cleanups.push(fake.close);
    const dir = await dataDir();
    const token = ensureAdminTokenFile(dir);
    writeServerInfo(dir, { pid: process.pid, host: "127.0.0.1", port: fake.port, instanceId: INSTANCE, startedAt: Date.now() });

    await expect(resolveRunTarget({ config: configFor(dir, fake.port) })).rejects.toMatchObject({ code: "SERVER_UNVERIFIED" });
    expect(fake.requests.map((r) => [r.method, r.path, r.headers.authorization])).toEqual([["GET", "/health", undefined]]);

    instance = INSTANCE;
    const target = await resolveRunTarget({ config: configFor(dir, fake.port) });
    expect(target).toMatchObject({ kind: "server", url: `http://127.0.0.1:${fake.port}`, token });
    if (target.kind !== "server") throw new Error("unreachable");
    await expect(viaServer(target, { path: "/api/improve/runs" })).resolves.toMatchObject({ runId: "run-1" });
    expect(fake.requests.at(-1)).toMatchObject({ method: "POST", path: "/api/improve/runs", headers: { authorization: `Bearer ${token}` } });
  });

  it("runs in-process when this data dir has no server.json, even though something answers on COUNCIL_PORT, and when server.json is stale", async () => {
    const fake = await fakeServer(() => ({ status: 200, body: { status: "ok" } }));
    cleanups.push(fake.close);
    const dir = await dataDir();
    await expect(resolveRunTarget({ config: configFor(dir, fake.port, "very-secret-admin-token") })).resolves.toEqual({ kind: "in-process" });
    expect(fake.requests).toEqual([]);

    writeServerInfo(dir, { pid: 999_999, host: "127.0.0.1", port: fake.port, instanceId: INSTANCE, startedAt: Date.now() });
    const stale = await resolveRunTarget({ config: configFor(dir, fake.port, "very-secret-admin-token"), isAlive: () => false });
    expect(stale).toMatchObject({ kind: "in-process", note: expect.stringContaining("stale") });
    expect(fake.requests).toEqual([]);
  });

  it("the admin-token file is created once with mode 0600, and refused when others can read it", async () => {
    const dir = await dataDir();
    const token = ensureAdminTokenFile(dir);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(ensureAdminTokenFile(dir)).toBe(token);
    expect((await stat(join(dir, "admin-token"))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "server.json")).catch(() => null))).toBeNull();
    await writeFile(join(dir, "admin-token"), "readable-token\n");
    await chmod(join(dir, "admin-token"), 0o644);
    expect(() => readAdminTokenFile(dir)).toThrow(/chmod 600/);
  });
});
