import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent0 } from "../agents/index.js";
import { loadConfig, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { FaissMemory, MarkdownKnowledgeBase } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel } from "../models/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { createCouncil, type Council } from "./create-council.js";

// The real seedling when it is built, else a tiny random llama GGUF: either way real GGUF inference.
const root = mkdtempSync(join(tmpdir(), "council-int-"));
let chatModel: LlamaChatModel;
let memory: FaissMemory;
let council: Council;
let knowledgeBase: MarkdownKnowledgeBase;
const usingSeedling = existsSync(SEEDLING_PATH);

beforeAll(async () => {
  const modelPath = usingSeedling ? SEEDLING_PATH : await createTinyModel({ dir: root });
  chatModel = await LlamaChatModel.create({ modelPath, contextSize: 1024, parallel: 1, maxTokens: 48, threads: 1 });
  const embeddings = new HashEmbeddings({ dimensions: 384 });
  memory = await FaissMemory.create({ dir: join(root, "memory"), embeddings, dimensions: 384 });
  knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(root, "kb.sqlite"), embeddings });
  await knowledgeBase.index(join(PROJECT_ROOT, "kb"));
  const config = loadConfig({ env: {}, overrides: { dataDir: root, agents: { router: "auto", critic: "auto", maxRevisions: 1 } } });
  council = await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase, modelName: usingSeedling ? "seedling" : "tiny" });
});

afterAll(async () => {
  await council?.dispose();
  await memory?.dispose();
  await knowledgeBase?.dispose();
  await chatModel?.dispose();
  rmSync(root, { recursive: true, force: true });
});

describe(`council on real GGUF inference (${usingSeedling ? "seedling" : "tiny model"}) and real faiss-node memory and knowledge base`, () => {
  it("answers with streamed tokens, critiques, and records the turn in FAISS memory", async () => {
    const tokens: string[] = [];
    const result = await council.turn({ id: "q1", sessionId: "s1", userId: "u1", text: "How do I extract a tar.gz archive?", onToken: (t) => tokens.push(t) });
    expect(tokens.length).toBeGreaterThan(0);
    // Without onRevise, only the first attempt streams; with no revision the stream is the answer.
    if (result.revisions === 0) expect(tokens.join("").trim()).toBe(result.answer);
    expect(result.score).toBeGreaterThanOrEqual(0);
    expect(result.score).toBeLessThanOrEqual(1);
    expect(result.success).toBe(result.score >= 0.5);
    expect(result.tokens).toBeGreaterThan(0);
    expect(result.answer).not.toMatch(/###/);
    // Router and critic ran in auto mode: each step says whether the model's JSON was used or why not.
    const steps = result.steps!;
    for (const agent of ["router", "answerer", "critic"]) expect(steps.some((step) => step.agent === agent)).toBe(true);
    for (const step of steps) if (step.method === "heuristic" && step.agent !== "revise" && step.agent !== "amend") expect(step.fallback).toEqual(expect.any(String));
    const record = await memory.get(result.traceId);
    expect(record).toMatchObject({ question: "How do I extract a tar.gz archive?", success: result.success, route: result.route, adapter: null });
    // Memory keeps the council's own answer; a draft the critic failed is replaced for the user by a fallback.
    if (result.source.kind === "fallback") {
      expect(record!.success).toBe(false);
      expect(result.answer).toMatch(/^(From the .+ page: |I don't know)/);
    } else expect(record!.answer).toBe(result.answer);
    const hits = await memory.search("extract a tar.gz archive", { k: 1 });
    expect(hits[0]?.record.traceId).toBe(result.traceId);
  });

  it("a 👎 flips the turn to a failure that the harvester finds by flag and time", async () => {
    const result = await council.turn({ id: "q2", sessionId: "s2", text: "How do I reset my password?" });
    await council.feedback({ traceId: result.traceId, rating: -1, correction: "Run passwd." });
    const failures = await memory.failures({ since: 0 });
    expect(failures.map((turn) => turn.traceId)).toContain(result.traceId);
    expect((await council.trace(result.traceId))?.feedback).toMatchObject({ rating: -1, correction: "Run passwd." });
  });

  it("agent0 rewrites a failure on the real model, falling back to the knowledge base when needed", async () => {
    const agent0 = new Agent0({ model: chatModel, knowledgeBase, mode: "auto", maxTokens: 48 });
    const result = await agent0.rewrite({ question: "How do I extract a tar.gz archive?", failedAnswer: "Use the dir command.", correction: "tar -xzf file.tar.gz" });
    const sources = result.candidates.map((candidate) => candidate.source);
    expect(sources).toContain("kb-grounded");
    expect(sources).toContain("correction");
    expect(result.candidates.find((c) => c.source === "kb-grounded")!.answer).toMatch(/tar/);
    expect(result.steps[0]!.agent).toBe("agent0");
  });
});
