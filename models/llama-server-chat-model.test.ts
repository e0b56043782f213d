import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { LlamaServerChatModel } from "./llama-server-chat-model.js";

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A stand-in llama-server whose first `drops` connections are closed before an answer (a kept-alive socket the server ended). */
async function flakyServer(drops: number): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  server = createServer((req, res) => {
    requests++;
    if (requests <= drops) {
      req.socket.destroy();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    res.end("[]");
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests };
}

describe("LlamaServerChatModel requests", () => {
  it("sends a request again once when the server closed the connection before answering", async () => {
    const { url, requests } = await flakyServer(1);
    const model = await LlamaServerChatModel.create({ baseUrl: url });
    expect(model.serverAdapters).toEqual([]);
    expect(requests()).toBe(2);
  });

  it("gives up after the second closed connection with BACKEND_UNAVAILABLE", async () => {
    const { url, requests } = await flakyServer(5);
    const error = await LlamaServerChatModel.create({ baseUrl: url }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "BACKEND_UNAVAILABLE")).toBe(true);
    expect(requests()).toBe(2);
  });
});
