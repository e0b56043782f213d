import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig, PROJECT_ROOT, SEEDLING_PATH } from "../core/index.js";
import { FaissMemory, MarkdownKnowledgeBase, passageRankers, VerifiedMemory } from "../memory/index.js";
import { HashEmbeddings, LlamaChatModel, writeLoraAdapter } from "../models/index.js";
import { createTinyModel } from "../test/helpers/tiny-model.js";
import { createCouncil, type Council } from "./create-council.js";
import { existsSync } from "node:fs";

/**
 * The real council on real inference (the seedling when built, else a tiny random model), real FAISS memory, the
 * real knowledge base over kb/ and real verified memory on SQLite.
 */
describe("a real council delivers no failed draft, and verified entries follow their release", () => {
  let dir: string;
  let council: Council;
  let verified: VerifiedMemory;
  let slot: { slot: string; version: string } | null = null;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "council-verified-int-"));
    const modelPath = existsSync(SEEDLING_PATH) ? SEEDLING_PATH : await createTinyModel({ dir });
    const chatModel = await LlamaChatModel.create({ modelPath, contextSize: 1024, parallel: 1, maxTokens: 48, threads: 1 });
    // The canary slot holds a real adapter (zero B: the base's outputs), as it does while a release is on canary.
    const adapter = await writeLoraAdapter({ base: modelPath, out: join(dir, "canary.gguf"), rank: 4, alpha: 8, targets: ["attn_q", "attn_v"] });
    await chatModel.setAdapter({ slot: "canary", path: adapter.path, version: "v-canary" });
    const embeddings = new HashEmbeddings({ dimensions: 384 });
    const memory = await FaissMemory.create({ dir: join(dir, "memory"), embeddings, dimensions: 384 });
    const config = loadConfig({ env: {}, overrides: { dataDir: dir, logLevel: "silent", model: { parallel: 1, maxTokens: 48 } } });
    // The configured (default) passage ranker, as a deployment opens it.
    const knowledgeBase = await MarkdownKnowledgeBase.create({ storePath: join(dir, "kb.sqlite"), embeddings, ranker: passageRankers.get(config.kb.ranker).create(config, {}) });
    await knowledgeBase.index(join(PROJECT_ROOT, "kb"));
    verified = await VerifiedMemory.create({ path: join(dir, "verified.sqlite"), embeddings });
    council = await createCouncil({ config, chatModel, embeddings, memory, knowledgeBase, verified, selectAdapter: () => slot, owned: [verified, knowledgeBase, memory, chatModel] });
  });
  afterAll(async () => {
    await council?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const QUESTIONS: Array<[string, RegExp]> = [
    ["how do I extract a tar.gz archive?", /tar\s+-?[a-z]*x/],
    ["how do I list hidden files?", /ls\s+-[a-zA-Z]*a/],
    ["how do I see how much disk space is free?", /\bdf\b/],
    ["how do I find which process uses a port?", /\b(lsof|ss|netstat|fuser)\b/],
    ["I forgot my password, how do I reset it?", /password|reset/i],
  ];

  it("each example question gets a correct command or an honest fallback with its source, never a failed draft", async () => {
    for (const [question, right] of QUESTIONS) {
      const result = await council.turn({ id: "q", sessionId: "s", userId: "alice", text: question });
      const draft = (await council.trace(result.traceId))!.answer;
      if (result.success) {
        expect(result.source.kind).not.toBe("fallback");
        expect(result.answer).toBe(draft);
      } else {
        // The critic failed the draft: the user gets the fallback, never the draft.
        expect(result.source).toMatchObject({ kind: "fallback" });
        expect(result.answer).toMatch(/^(From the .+ page: |I don't know)/);
        if (draft.trim().length > 0) expect(result.answer).not.toBe(draft);
      }
      if (result.source.kind === "fallback" && result.answer.startsWith("From the")) expect(result.answer).toMatch(right);
      // The Processes page's `pgrep` covers "find" and "process" but not "port": no answer to this question.
      if (question.includes("port")) expect(result.answer, result.answer).not.toMatch(/^From the Processes page/);
    }
  });

  it("a canary entry serves canary users only, and its rollback withdraws it for them at once", async () => {
    const question = "how do I extract a tar.gz backup into the folder /tmp/restore?";
    await verified.add([{ question, answer: "`tar -xzf backup.tar.gz -C /tmp/restore` — extract the tar.gz backup into the folder /tmp/restore.", source: "agent0", runId: "run-1", voteScore: 0.9, ballots: [], release: "v-canary", status: "canary" }]);
    slot = null;
    expect((await council.turn({ id: "a", sessionId: "stable", userId: "bob", text: question })).source.kind).not.toBe("memory");
    slot = { slot: "canary", version: "v-canary" };
    const onCanary = await council.turn({ id: "b", sessionId: "canary", userId: "carol", text: question });
    expect(onCanary.source, onCanary.reasons.join("; ")).toMatchObject({ kind: "memory", adapter: "v-canary" });
    expect(onCanary.answer).toContain("tar -xzf backup.tar.gz -C /tmp/restore");
    // The nightly canary node withdraws the release's entries on rollback (another connection, as in production).
    const nightly = await VerifiedMemory.create({ path: join(dir, "verified.sqlite"), embeddings: new HashEmbeddings({ dimensions: 384 }) });
    expect(await nightly.setReleaseStatus({ release: "v-canary", to: "withdrawn", note: "rolled back" })).toBe(1);
    await nightly.dispose();
    const after = await council.turn({ id: "c", sessionId: "canary", userId: "carol", text: question });
    expect(after.source.kind).not.toBe("memory");
  });
});
