import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LlamaServerChatModel } from "./llama-server-chat-model.js";

/**
 * One shared llama-server (a real HTTP server on loopback speaking its /lora-adapters and streaming /completion
 * protocol) and two replicas whose registries hold the same versions under other paths: both must select the
 * server's adapter by the version the release record names, per request (`lora` field), loading nothing.
 */
const STABLE = "aaaaaaaaaaaaaaaa";
const CANARY = "bbbbbbbbbbbbbbbb";
let server: Server;
let url: string;
let roots: string[] = [];
const bodies: Array<{ lora: unknown }> = [];

async function replicaDir(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), "council-llama-replica-"));
  roots.push(root);
  for (const version of [STABLE, CANARY]) {
    await mkdir(join(root, "loras", "versions", version), { recursive: true });
    await writeFile(join(root, "loras", "versions", version, "adapter.gguf"), version);
  }
  return root;
}

beforeEach(async () => {
  bodies.length = 0;
  server = createServer(async (request, response) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    if (request.url === "/lora-adapters") {
      const adapters = [STABLE, CANARY].map((version, id) => ({ id, path: `/srv/shared/loras/versions/${version}/adapter.gguf`, scale: 0 }));
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(adapters));
      return;
    }
    bodies.push(JSON.parse(text) as { lora: unknown });
    response.writeHead(200, { "content-type": "text/event-stream" }).end(`data: ${JSON.stringify({ content: "ok" })}\n\ndata: ${JSON.stringify({ content: "", stop: true, tokens_predicted: 1 })}\n\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await new Promise((resolve) => server.close(resolve));
  for (const root of roots) await rm(root, { recursive: true, force: true });
  roots = [];
});

describe("replicas sharing one llama-server", () => {
  it("both replicas map a slot to the server's adapter of the same version and send it per request", async () => {
    const replicas = [await LlamaServerChatModel.create({ baseUrl: url }), await LlamaServerChatModel.create({ baseUrl: url })];
    for (const replica of replicas) {
      const root = await replicaDir();
      await replica.setAdapter({ slot: "stable", version: STABLE, path: join(root, "loras", "versions", STABLE, "adapter.gguf") });
      await replica.setAdapter({ slot: "canary", version: CANARY, path: join(root, "loras", "versions", CANARY, "adapter.gguf") });
      await replica.invoke([new HumanMessage("hi")], { adapter: "stable" });
      await replica.invoke([new HumanMessage("hi")], { adapter: "canary" });
    }
    expect(bodies.map((body) => body.lora)).toEqual([[{ id: 0, scale: 1 }], [{ id: 1, scale: 1 }], [{ id: 0, scale: 1 }], [{ id: 1, scale: 1 }]]);
  });

  it("still refuses a version the server did not preload", async () => {
    const replica = await LlamaServerChatModel.create({ baseUrl: url });
    const root = await replicaDir();
    await mkdir(join(root, "loras", "versions", "cccccccccccccccc"), { recursive: true });
    await writeFile(join(root, "loras", "versions", "cccccccccccccccc", "adapter.gguf"), "c");
    await expect(replica.setAdapter({ slot: "canary", version: "cccccccccccccccc", path: join(root, "loras", "versions", "cccccccccccccccc", "adapter.gguf") })).rejects.toMatchObject({ code: "ADAPTER_NOT_FOUND" });
  });
});
