import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HumanMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LlamaChatModel, writeLoraAdapter } from "../models/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { readAdapterScope, writeAdapterScope } from "./adapter-scope.js";

const PROMPT = [new HumanMessage("How do I reset my password?")];

// Real llama.cpp (node-llama-cpp): a scope in the adapter's metadata changes nothing about how the adapter serves.
describe("a scoped adapter on llama.cpp", () => {
  let dir: string;
  let model: LlamaChatModel | undefined;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-scope-"));
  });
  afterAll(async () => {
    await model?.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it("loads and answers exactly like the same adapter without a scope", async () => {
    const base = await createTinyModel({ dir, seed: 3 });
    const plain = join(dir, "plain.gguf");
    await writeLoraAdapter({ base, out: plain, rank: 4, alpha: 8, targets: ["attn_q", "attn_v", "ffn_up"], init: "random", seed: 7, randomScale: 2 });
    const scoped = join(dir, "scoped.gguf");
    await copyFile(plain, scoped);
    await writeAdapterScope(scoped, { questions: ["How do I list files one per line using ls?"], minSimilarity: 0.5 });
    expect(readAdapterScope(scoped)).toEqual({ questions: ["How do I list files one per line using ls?"], minSimilarity: 0.5, keep: [] });
    expect(readAdapterScope(plain)).toBeNull();
    model = await LlamaChatModel.create({ modelPath: base, threads: 1, contextSize: 256, parallel: 1 });
    await model.setAdapter({ slot: "plain", path: plain, version: "p1" });
    await model.setAdapter({ slot: "scoped", path: scoped, version: "s1" });
    const options = { maxTokens: 16, ignoreEos: true };
    const bare = (await model.invoke(PROMPT, options)).content;
    const adapted = (await model.invoke(PROMPT, { ...options, adapter: "plain" })).content;
    expect(adapted).not.toBe(bare);
    expect((await model.invoke(PROMPT, { ...options, adapter: "scoped" })).content).toBe(adapted);
  });
});
