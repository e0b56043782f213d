import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics } from "../core/index.js";
import { AdapterRegistry } from "./adapter-registry.js";
import { reasonLabel, rollbackDeployment } from "./rollback.js";
import { writeTestAdapter } from "./test-adapter.js";

let root: string;
let registry: AdapterRegistry;
let server: Server | undefined;
const received: unknown[] = [];

async function webhook(status: number): Promise<string> {
  received.length = 0;
  server = createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    received.push(JSON.parse(body));
    response.writeHead(status).end();
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}/hook`;
}

async function publish(salt: string): Promise<string> {
  const path = join(root, `${salt}.gguf`);
  await writeTestAdapter({ path, salt });
  return (await registry.publish({ adapterPath: path, training: {}, evaluation: { probes: [] } })).version;
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "council-rollback-"));
  registry = await AdapterRegistry.create({ config: { dataDir: root } });
});
afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(root, { recursive: true, force: true });
});

describe("rollbackDeployment", () => {
  it("switches current back to previous, writes the summary, and posts a Slack-style webhook", async () => {
    const a = await publish("a");
    const b = await publish("b");
    await registry.activate(a, { reason: "1" });
    await registry.activate(b, { reason: "2" });
    const metrics = createMetrics({ defaultMetrics: false });
    const url = await webhook(200);
    const summary = await rollbackDeployment({ registry, reason: "manual: operator", webhookUrl: url, metrics });
    expect(summary).toMatchObject({ removed: b, restored: a, webhook: "sent" });
    expect(await registry.current()).toBe(a);
    expect(received).toEqual([{ text: expect.stringContaining(`rolled back adapter ${b} → ${a}: manual: operator`) }]);
    expect(JSON.parse(await readFile(join(root, "loras", "rollback_summary.json"), "utf8"))).toMatchObject({ removed: b, restored: a });
    expect((await metrics.rollbacks.get()).values[0]).toMatchObject({ labels: { reason: "manual" }, value: 1 });
  });

  it("still rolls back when the webhook fails, and records WEBHOOK_FAILED", async () => {
    const a = await publish("a");
    const b = await publish("b");
    await registry.activate(a, { reason: "1" });
    await registry.activate(b, { reason: "2" });
    const url = await webhook(500);
    const summary = await rollbackDeployment({ registry, reason: "manual", webhookUrl: url });
    expect(summary.webhook).toBe("failed");
    expect(await registry.current()).toBe(a);
  });

  it("fails with ADAPTER_NOT_FOUND when there is no previous version", async () => {
    await registry.activate(await publish("a"), { reason: "1" });
    await expect(rollbackDeployment({ registry, reason: "manual" })).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
  });

  it("keeps reason labels bounded", () => {
    expect(reasonLabel("latency: p95 3000 ms")).toBe("latency");
    expect(reasonLabel("satisfaction: canary 👍 35.0% of 20 ratings")).toBe("satisfaction");
    expect(reasonLabel("cost: canary 80.0 tokens")).toBe("cost");
    expect(reasonLabel("user-123 asked")).toBe("other");
  });
});
