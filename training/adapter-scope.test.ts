import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isCouncilError } from "../core/index.js";
import { readGguf, readTensorBytes, sha256File, writeGguf } from "../models/index.js";
import { ADAPTER_SCOPE_KEYS, readAdapterScope, scopeMatcher, scopeSimilarity, scopeTrainedAdapter, writeAdapterScope } from "./adapter-scope.js";

const FIX = "How do I list files one per line using ls?";

describe("scope similarity", () => {
  const scope = { questions: [FIX, "How do I extract a tar.gz archive?"], minSimilarity: 0.5 };
  it("a repeated question is in scope, whatever its case and punctuation", () => {
    expect(scopeSimilarity(scope, "how do i list files one per line using ls")).toEqual({ similarity: 1, nearest: FIX });
    expect(scopeMatcher(scope)("HOW do I list files, one per line, using ls?")).toBe(true);
  });
  it("another task on the same tool, in the same template, is not", () => {
    const other = "How do I list all files including hidden ones using ls?";
    expect(scopeSimilarity(scope, other).similarity).toBeLessThan(0.5);
    expect(scopeMatcher(scope)(other)).toBe(false);
  });
  it("a question nearer to one that already passed stays on the base model, however similar to a fix", () => {
    const fix = "How do I display the man page for a command using man?";
    const kept = "How do I display the man page for a command from section 7 using man?";
    const withKeep = { questions: [fix], minSimilarity: 0.5, keep: [kept] };
    expect(scopeSimilarity(withKeep, kept).similarity).toBeGreaterThan(0.6);
    expect(scopeMatcher({ questions: [fix], minSimilarity: 0.5 })(kept)).toBe(true);
    expect(scopeMatcher(withKeep)(kept)).toBe(false);
    expect(scopeMatcher(withKeep)(fix)).toBe(true);
    expect(scopeMatcher(withKeep)("How can I display the man page for a command using man?")).toBe(true);
  });

  it("no scope applies everywhere; similarity 0 too", () => {
    expect(scopeMatcher(null)("anything")).toBe(true);
    expect(scopeMatcher({ questions: [FIX], minSimilarity: 0 })("unrelated words here")).toBe(true);
  });
  it("without kept questions, the matcher is the nearest fix's similarity against the bar", () => {
    const matcher = scopeMatcher(scope);
    for (const question of [FIX, "What ls command would list files one per line?", "how do I extract a tar.gz archive", "reset my password"]) {
      expect(matcher(question)).toBe(scopeSimilarity(scope, question).similarity >= scope.minSimilarity);
    }
  });
  it("the indexed matcher decides exactly as comparing with every fix and every kept question", () => {
    // questions drawn from a small vocabulary, so many share bigrams and many similarities tie
    const vocabulary = ["how", "do", "i", "list", "files", "using", "ls", "tar", "extract", "the", "archive", "copy"];
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const question = () => Array.from({ length: 2 + Math.floor(random() * 6) }, () => vocabulary[Math.floor(random() * vocabulary.length)]).join(" ");
    const questions = Array.from({ length: 40 }, question);
    const keep = Array.from({ length: 200 }, question);
    for (const minSimilarity of [0.2, 0.5]) {
      const indexed = scopeMatcher({ questions, keep, minSimilarity });
      for (let i = 0; i < 300; i++) {
        const asked = question();
        const fix = scopeSimilarity({ questions, minSimilarity }, asked).similarity;
        const kept = scopeSimilarity({ questions: keep, minSimilarity }, asked).similarity;
        expect(indexed(asked), asked).toBe(fix >= minSimilarity && (fix > kept || kept === 0));
      }
    }
  });
});

describe("scope in the adapter file", () => {
  let dir: string;
  let path: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "council-scope-unit-"));
    path = join(dir, "adapter.gguf");
    await writeGguf({
      path,
      kv: [
        { key: "general.type", type: "string", value: "adapter" },
        { key: "adapter.type", type: "string", value: "lora" },
        { key: "adapter.lora.alpha", type: "f32", value: 8 },
      ],
      tensors: [{ name: "blk.0.attn_q.weight.lora_a", dims: [8, 4], data: Float32Array.from({ length: 32 }, (_, i) => i / 7) }],
    });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("round-trips, keeps the tensors byte for byte and the other metadata, and replaces an earlier scope", async () => {
    const before = readTensorBytes(readGguf(path), "blk.0.attn_q.weight.lora_a");
    expect(readAdapterScope(path)).toBeNull();
    await writeAdapterScope(path, { questions: [FIX, FIX, "second"], minSimilarity: 0.5 });
    expect(readAdapterScope(path)).toEqual({ questions: [FIX, "second"], minSimilarity: 0.5, keep: [] });
    await writeAdapterScope(path, { questions: ["third"], minSimilarity: 0.25, keep: ["kept one", "Kept one", "third"] });
    const file = readGguf(path);
    expect(readAdapterScope(path)).toEqual({ questions: ["third"], minSimilarity: 0.25, keep: ["Kept one", "third"] });
    expect(scopeMatcher(readAdapterScope(path))("third")).toBe(false); // it passed once: the base model keeps it
    expect(file.kv.filter((entry) => entry.key === ADAPTER_SCOPE_KEYS.questions)).toHaveLength(1);
    expect(file.metadata.get("adapter.type")).toBe("lora");
    expect(readTensorBytes(file, "blk.0.attn_q.weight.lora_a")).toEqual(before);
  });

  it("refuses an empty scope or a similarity outside [0, 1] (CONFIG_INVALID), and leaves the file as it was", async () => {
    const hash = await sha256File(path);
    for (const scope of [{ questions: [], minSimilarity: 0.5 }, { questions: [FIX], minSimilarity: 1.5 }]) {
      const error = await writeAdapterScope(path, scope).catch((caught: unknown) => caught);
      expect(isCouncilError(error, "CONFIG_INVALID")).toBe(true);
    }
    expect(await sha256File(path)).toBe(hash);
  });

  it("a malformed scope is GGUF_INVALID", async () => {
    await writeGguf({ path, kv: [{ key: ADAPTER_SCOPE_KEYS.questions, type: "string", value: "not a list" }, { key: ADAPTER_SCOPE_KEYS.minSimilarity, type: "f32", value: 0.5 }], tensors: [{ name: "t", dims: [4], data: new Float32Array(4) }] });
    expect(() => readAdapterScope(path)).toThrow(expect.objectContaining({ code: "GGUF_INVALID" }));
  });

  it("scoping a trained adapter keeps its training.json true to the file", async () => {
    await writeFile(join(dir, "training.json"), JSON.stringify({ adapter: { file: "adapter.gguf", sha256: await sha256File(path), bytes: 1 }, epochs: 3 }));
    await scopeTrainedAdapter(path, { questions: [FIX], minSimilarity: 0.5, keep: ["a passing question", FIX] });
    const report = JSON.parse(await readFile(join(dir, "training.json"), "utf8"));
    expect(report).toMatchObject({ adapter: { file: "adapter.gguf", sha256: await sha256File(path) }, epochs: 3, scope: { questions: 1, keep: 2, minSimilarity: 0.5 } });
    expect(report.adapter.bytes).toBe(readGguf(path).fileSize);
  });
});
