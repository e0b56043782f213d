import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, type BaseMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError, NATIVE_BUILD_DIR } from "../core/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { chatModelContract } from "./chat-model.contract.js";
import { writeLoraAdapter } from "./gguf/index.js";
import { LlamaServerChatModel } from "./llama-server-chat-model.js";
import { LlamaServerProcess } from "./llama-server-process.js";

const LLAMA_SERVER = join(NATIVE_BUILD_DIR, "bin", "llama-server");
/** `npm run setup` builds llama-server; without it (a tree set up before it was added) these tests cannot run. */
const haveServer = existsSync(LLAMA_SERVER);

const PROMPT: BaseMessage[] = [new HumanMessage("How do I reset my password?")];

interface Fixture {
  dir: string;
  server: LlamaServerProcess;
  adapterA: string;
  adapterB: string;
  dispose(): Promise<void>;
}

/** A real llama-server (native/build/bin) on the seedling or a tiny GGUF, with two LoRA adapters preloaded. */
async function startFixture(parallel: number): Promise<Fixture> {
  const dir = await mkdtemp(join(tmpdir(), "council-llama-server-"));
  // A tiny random model: the contract is about the backend, and the reading seedling answers a context-free question
  // in another system prompt with an immediate end of turn (an empty answer).
  const base = await createTinyModel({ dir, seed: 1 });
  const adapterA = join(dir, "a.gguf");
  const adapterB = join(dir, "b.gguf");
  await writeLoraAdapter({ base, out: adapterA, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up"], init: "random", seed: 7, randomScale: 2 });
  await writeLoraAdapter({ base, out: adapterB, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up"], init: "random", seed: 9, randomScale: 2 });
  const server = await LlamaServerProcess.start({ modelPath: base, adapters: [adapterA, adapterB], threads: 1, contextSize: 512 * parallel, parallel });
  return {
    dir,
    server,
    adapterA,
    adapterB,
    dispose: async () => {
      await server.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

if (haveServer) chatModelContract("llama-server (llama.cpp server process)", async () => {
  const fixture = await startFixture(2);
  const model = await LlamaServerChatModel.create({ baseUrl: fixture.server.url });
  await model.setAdapter({ slot: "canary", path: fixture.adapterA, version: "a1" });
  return { model, adapter: "canary", dispose: fixture.dispose };
});

describe.skipIf(!haveServer)("LlamaServerChatModel (real llama-server; needs native/build/bin/llama-server from npm run setup)", () => {
  let fixture: Fixture;
  let model: LlamaServerChatModel;
  beforeAll(async () => {
    fixture = await startFixture(4);
    model = await LlamaServerChatModel.create({ baseUrl: fixture.server.url });
  });
  afterAll(async () => {
    await fixture?.dispose();
  });

  it("reads the preloaded adapters, and an adapter changes the output", async () => {
    expect(model.serverAdapters.map((adapter) => adapter.id)).toEqual([0, 1]);
    await model.setAdapter({ slot: "a", path: fixture.adapterA, version: "a1" });
    const options = { maxTokens: 24, ignoreEos: true };
    const plain = await model.invoke(PROMPT, options);
    const adapted = await model.invoke(PROMPT, { ...options, adapter: "a" });
    expect((plain.content as string).length).toBeGreaterThan(0);
    expect(adapted.content).not.toBe(plain.content);
    expect(adapted.response_metadata).toMatchObject({ adapter: "a", adapterVersion: "a1" });
    expect(adapted.usage_metadata?.output_tokens).toBe(24);
  });

  it("swaps a slot under load: requests before the swap finish on the old adapter, none fails", async () => {
    const options = { maxTokens: 48, ignoreEos: true };
    await model.setAdapter({ slot: "ref-a", path: fixture.adapterA, version: "a1" });
    await model.setAdapter({ slot: "ref-b", path: fixture.adapterB, version: "b1" });
    const refA = (await model.invoke(PROMPT, { ...options, adapter: "ref-a" })).content;
    const refB = (await model.invoke(PROMPT, { ...options, adapter: "ref-b" })).content;
    expect(refA).not.toBe(refB);

    await model.setAdapter({ slot: "live", path: fixture.adapterA, version: "a1" });
    const before = Array.from({ length: 6 }, () => model.invoke(PROMPT, { ...options, adapter: "live" }));
    const streaming = await model.stream(PROMPT, { ...options, adapter: "live" });
    const iterator = streaming[Symbol.asyncIterator]();
    const first = await iterator.next();
    await model.setAdapter({ slot: "live", path: fixture.adapterB, version: "b1" });
    const after = Array.from({ length: 6 }, () => model.invoke(PROMPT, { ...options, adapter: "live" }));
    let text = first.done ? "" : (first.value.content as string);
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.content as string;

    const results = await Promise.allSettled([...before, ...after]);
    expect(results.filter((result) => result.status === "rejected")).toEqual([]);
    const contents = results.map((result) => (result.status === "fulfilled" ? result.value.content : undefined));
    expect(text).toBe(refA);
    expect(contents.slice(0, 6)).toEqual(Array(6).fill(refA));
    expect(contents.slice(6)).toEqual(Array(6).fill(refB));
  });

  it("sets the server-wide default through POST /lora-adapters", async () => {
    await model.setAdapter({ slot: "stable", path: fixture.adapterB, version: "b1", scale: 0.5 });
    await model.setServerDefault("stable");
    const listed = (await (await fetch(`${fixture.server.url}/lora-adapters`)).json()) as { id: number; scale: number }[];
    expect(listed.map(({ id, scale }) => ({ id, scale }))).toEqual([
      { id: 0, scale: 0 },
      { id: 1, scale: 0.5 },
    ]);
    await model.setServerDefault(null);
    const reset = (await (await fetch(`${fixture.server.url}/lora-adapters`)).json()) as { scale: number }[];
    expect(reset.every((adapter) => adapter.scale === 0)).toBe(true);
  });

  it("refuses an adapter the server did not preload, and a removed slot, with ADAPTER_NOT_FOUND", async () => {
    const other = join(fixture.dir, "other.gguf");
    await writeLoraAdapter({ base: join(fixture.dir, "tiny-model.gguf"), out: other, rank: 2, alpha: 4, targets: ["attn_q"] });
    const error = await model.setAdapter({ slot: "x", path: other, version: "x" }).catch((caught: unknown) => caught);
    expect(isCouncilError(error, "ADAPTER_NOT_FOUND")).toBe(true);
    await model.setAdapter({ slot: "gone", path: fixture.adapterA, version: "a1" });
    await model.removeAdapter("gone");
    const removed = await model.invoke(PROMPT, { adapter: "gone" }).catch((caught: unknown) => caught);
    expect(isCouncilError(removed, "ADAPTER_NOT_FOUND")).toBe(true);
  });
});
