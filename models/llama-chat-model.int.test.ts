import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage, type AIMessageChunk, type BaseMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isCouncilError, SEEDLING_PATH } from "../core/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { chatModelContract } from "./chat-model.contract.js";
import { writeLoraAdapter } from "./gguf/index.js";
import { LlamaChatModel } from "./llama-chat-model.js";

const PROMPT: BaseMessage[] = [new HumanMessage("How do I reset my password?")];
const TARGETS = ["attn_q", "attn_v", "ffn_up"];

/** The seedling when `npm run setup` built it, else a tiny random llama GGUF. */
async function baseModel(dir: string): Promise<string> {
  return existsSync(SEEDLING_PATH) ? SEEDLING_PATH : createTinyModel({ dir, seed: 1 });
}

async function writeAdapter(base: string, out: string, seed: number, init: "random" | "zero-b" = "random"): Promise<string> {
  await writeLoraAdapter({ base, out, rank: 4, alpha: 8, targets: TARGETS, init, seed, randomScale: 2 });
  return out;
}

async function streamTimed(stream: AsyncIterable<AIMessageChunk>, t0: number): Promise<{ text: string; times: number[] }> {
  let text = "";
  const times: number[] = [];
  for await (const chunk of stream) {
    if (chunk.content === "") continue;
    text += chunk.content as string;
    times.push(performance.now() - t0);
  }
  return { text, times };
}

chatModelContract("llama (node-llama-cpp, real GGUF)", async () => {
  const dir = await mkdtemp(join(tmpdir(), "council-llama-contract-"));
  const base = await baseModel(dir);
  const model = await LlamaChatModel.create({ modelPath: base, threads: 1, contextSize: 512, parallel: 2 });
  await model.setAdapter({ slot: "canary", path: await writeAdapter(base, join(dir, "canary.gguf"), 3), version: "c1" });
  return {
    model,
    adapter: "canary",
    dispose: async () => {
      await model.dispose();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe("LlamaChatModel (real GGUF inference)", () => {
  let dir: string;
  let base: string;
  let model: LlamaChatModel;
  let adapterA: string;
  let adapterB: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-llama-"));
    base = await baseModel(dir);
    adapterA = await writeAdapter(base, join(dir, "a.gguf"), 7);
    adapterB = await writeAdapter(base, join(dir, "b.gguf"), 9);
    model = await LlamaChatModel.create({ modelPath: base, threads: 1, contextSize: 512, parallel: 2 });
  });
  afterAll(async () => {
    await model?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the model and streams tokens as they are generated", async () => {
    const t0 = performance.now();
    const { text, times } = await streamTimed(await model.stream(PROMPT, { maxTokens: 24, ignoreEos: true }), t0);
    expect(text.length).toBeGreaterThan(0);
    expect(times.length).toBeGreaterThanOrEqual(5);
    expect(times[0]!).toBeLessThan(times.at(-1)!);
  });

  it("a LoRA adapter changes the output; a zero adapter (B = 0) does not", async () => {
    await model.setAdapter({ slot: "a", path: adapterA, version: "a1" });
    await model.setAdapter({ slot: "zero", path: await writeAdapter(base, join(dir, "zero.gguf"), 5, "zero-b"), version: "z1" });
    const options = { maxTokens: 24, ignoreEos: true };
    const plain = await model.invoke(PROMPT, options);
    const adapted = await model.invoke(PROMPT, { ...options, adapter: "a" });
    const zero = await model.invoke(PROMPT, { ...options, adapter: "zero" });
    expect(adapted.content).not.toBe(plain.content);
    expect(zero.content).toBe(plain.content);
    expect(adapted.response_metadata).toMatchObject({ adapter: "a", adapterVersion: "a1" });
    expect(model.adapters().map((info) => info.slot).sort()).toEqual(["a", "zero"]);
    await model.removeAdapter("a");
    await model.removeAdapter("zero");
  });

  it("swaps a slot's adapter while a request streams on it, failing no request", async () => {
    const options = { maxTokens: 120, ignoreEos: true };
    // Reference outputs of A and B, each in a slot of its own.
    await model.setAdapter({ slot: "ref-a", path: adapterA, version: "a1" });
    await model.setAdapter({ slot: "ref-b", path: adapterB, version: "b1" });
    const refA = (await model.invoke(PROMPT, { ...options, adapter: "ref-a" })).content;
    const refB = (await model.invoke(PROMPT, { ...options, adapter: "ref-b" })).content;
    expect(refA).not.toBe(refB);

    await model.setAdapter({ slot: "live", path: adapterA, version: "a1" });
    const stream = await model.stream(PROMPT, { ...options, adapter: "live" });
    const iterator = stream[Symbol.asyncIterator]();
    let text = "";
    const first = await iterator.next();
    text += first.done ? "" : (first.value.content as string);
    // Swap while the first request is mid-stream; start more requests on both sides of the swap.
    const before = model.invoke(PROMPT, { ...options, adapter: "live" });
    const swapped = await model.setAdapter({ slot: "live", path: adapterB, version: "b1" });
    const after = model.invoke(PROMPT, { ...options, adapter: "live" });
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.content as string;

    expect(swapped).toMatchObject({ slot: "live", version: "b1" });
    expect(text).toBe(refA); // the in-flight request finished on the old adapter
    expect((await before).content).toBe(refA); // accepted before the swap: old adapter
    expect((await after).content).toBe(refB); // new requests see the new adapter
    expect(model.adapters().find((info) => info.slot === "live")?.version).toBe("b1");
    for (const slot of ["ref-a", "ref-b", "live"]) await model.removeAdapter(slot);
  });

  it("runs two requests on two different adapters concurrently", async () => {
    await model.setAdapter({ slot: "stable", path: adapterA, version: "a1" });
    await model.setAdapter({ slot: "canary", path: adapterB, version: "b1" });
    const options = { maxTokens: 120, ignoreEos: true };
    const soloA = (await model.invoke(PROMPT, { ...options, adapter: "stable" })).content;
    const soloB = (await model.invoke(PROMPT, { ...options, adapter: "canary" })).content;
    const t0 = performance.now();
    const [a, b] = await Promise.all([
      streamTimed(await model.stream(PROMPT, { ...options, adapter: "stable" }), t0),
      streamTimed(await model.stream(PROMPT, { ...options, adapter: "canary" }), t0),
    ]);
    expect(a.text).toBe(soloA);
    expect(b.text).toBe(soloB);
    // Interleaved: each request produced tokens before the other one finished.
    expect(b.times[0]!).toBeLessThan(a.times.at(-1)!);
    expect(a.times[0]!).toBeLessThan(b.times.at(-1)!);
    const overlap = Math.min(a.times.at(-1)!, b.times.at(-1)!) - Math.max(a.times[0]!, b.times[0]!);
    expect(overlap).toBeGreaterThan(0);
    await model.removeAdapter("stable");
    await model.removeAdapter("canary");
  });

  it("a lease holds a slot's adapter for a whole turn, even after the slot is removed, until released", async () => {
    await model.setAdapter({ slot: "leased", path: adapterA, version: "a1" });
    const options = { maxTokens: 24, ignoreEos: true };
    const reference = (await model.invoke(PROMPT, { ...options, adapter: "leased" })).content;
    const lease = model.leaseAdapter("leased");
    expect(lease.version).toBe("a1");
    await model.removeAdapter("leased"); // a rollback unloading the canary mid-turn
    const byName = await model.invoke(PROMPT, { ...options, adapter: "leased" }).catch((caught: unknown) => caught);
    expect(isCouncilError(byName, "ADAPTER_NOT_FOUND")).toBe(true);
    expect((await model.invoke(PROMPT, { ...options, adapter: lease.slot })).content).toBe(reference);
    lease.release();
    lease.release();
    const released = await model.invoke(PROMPT, { ...options, adapter: lease.slot }).catch((caught: unknown) => caught);
    expect(isCouncilError(released, "ADAPTER_NOT_FOUND")).toBe(true);
    expect(() => model.leaseAdapter("leased")).toThrow(/No adapter is loaded/);
  });

  it("rejects bad adapters with typed errors and keeps the slot serving", async () => {
    await model.setAdapter({ slot: "keep", path: adapterA, version: "a1" });
    const expected = (await model.invoke(PROMPT, { maxTokens: 8, ignoreEos: true, adapter: "keep" })).content;
    const otherBase = await createTinyModel({ dir, seed: 2, name: "other.gguf", shape: { embedding: 32, layers: 1, heads: 2, feedForward: 64, contextLength: 128 } });
    const foreign = await writeAdapter(otherBase, join(dir, "foreign.gguf"), 1);
    const garbage = join(dir, "garbage.gguf");
    await writeFile(garbage, "not a gguf at all, just text");
    const cases: [string, string][] = [
      [foreign, "ADAPTER_MISMATCH"],
      [base, "ADAPTER_INVALID"],
      [garbage, "ADAPTER_INVALID"],
      [join(dir, "missing.gguf"), "ADAPTER_NOT_FOUND"],
    ];
    for (const [path, code] of cases) {
      const error = await model.setAdapter({ slot: "keep", path, version: "bad" }).catch((caught: unknown) => caught);
      expect(isCouncilError(error) ? error.code : error).toBe(code);
    }
    // Rewriting a loaded adapter file in place would silently serve the old weights: refused.
    const inPlace = await writeAdapter(base, join(dir, "in-place.gguf"), 11);
    await model.setAdapter({ slot: "in-place", path: inPlace, version: "p1" });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await writeAdapter(base, inPlace, 12);
    const changed = await model.setAdapter({ slot: "in-place", path: inPlace, version: "p2" }).catch((caught: unknown) => caught);
    expect(isCouncilError(changed, "ADAPTER_INVALID")).toBe(true);
    await model.removeAdapter("in-place");
    expect(model.adapters().find((info) => info.slot === "keep")?.version).toBe("a1");
    expect((await model.invoke(PROMPT, { maxTokens: 8, ignoreEos: true, adapter: "keep" })).content).toBe(expected);
    await model.removeAdapter("keep");
    const removed = await model.invoke(PROMPT, { adapter: "keep" }).catch((caught: unknown) => caught);
    expect(isCouncilError(removed, "ADAPTER_NOT_FOUND")).toBe(true);
    const again = await model.removeAdapter("keep").catch((caught: unknown) => caught);
    expect(isCouncilError(again, "ADAPTER_NOT_FOUND")).toBe(true);
  });

  it("refuses missing, corrupt and not-downloaded models with typed errors", async () => {
    const corrupt = join(dir, "corrupt.gguf");
    await writeFile(corrupt, Buffer.from("GGUF\u0003\u0000\u0000\u0000 truncated header"));
    const notGguf = join(dir, "text.gguf");
    await writeFile(notGguf, "hello, I am not a model, but I am longer than the minimum header");
    const cases: [string, string][] = [
      [join(dir, "nope.gguf"), "MODEL_NOT_FOUND"],
      [notGguf, "MODEL_INVALID"],
      [corrupt, "MODEL_INVALID"],
      ["hf:council/not-downloaded-model:Q4_K_M", "MODEL_DOWNLOAD_OFFLINE"],
    ];
    for (const [modelPath, code] of cases) {
      const error = await LlamaChatModel.create({ modelPath, modelsDir: join(dir, "hf"), threads: 1 }).catch((caught: unknown) => caught);
      expect(isCouncilError(error) ? error.code : error).toBe(code);
    }
  });

  it("dispose stops an in-flight stream with an error and frees the model", async () => {
    const own = await LlamaChatModel.create({ modelPath: base, threads: 1, contextSize: 256, parallel: 1 });
    await own.setAdapter({ slot: "a", path: adapterA, version: "a1" });
    const stream = await own.stream(PROMPT, { maxTokens: 200, ignoreEos: true, adapter: "a" });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    const disposed = own.dispose();
    const error = await (async () => {
      for (let next = await iterator.next(); !next.done; next = await iterator.next());
    })().catch((caught: unknown) => caught);
    await disposed;
    expect(error).toBeInstanceOf(Error);
    const after = await own.invoke(PROMPT).catch((caught: unknown) => caught);
    expect(isCouncilError(after, "BACKEND_UNAVAILABLE")).toBe(true);
  });
});
