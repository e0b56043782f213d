import { existsSync } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CouncilError } from "../core/index.js";
import { readGguf, readTensorBytes, sha256File, writeGguf, type GgufKv, type GgufTensorInput } from "../models/index.js";
import { jaccard, wordNgrams } from "./datasets/text-similarity.js";

/** GGUF keys of an adapter's scope: the questions it was trained to answer, and how close a question must be. */
export const ADAPTER_SCOPE_KEYS = { questions: "council.scope.questions", minSimilarity: "council.scope.min_similarity" } as const;

/**
 * Where a nightly adapter applies: the questions it was trained on (every night's fixes; training is cumulative)
 * and the least word-bigram Jaccard similarity a question needs to one of them. Outside its scope a turn is
 * answered by the base model, so an adapter can only change answers near what it learned; a question it was
 * never taught cannot be broken by it. Carried in the adapter's GGUF (so its content hash covers it).
 */
export interface AdapterScope {
  questions: readonly string[];
  minSimilarity: number;
}

/** Nearest scope question by word-bigram Jaccard similarity (lower-cased, punctuation stripped). */
export function scopeSimilarity(scope: AdapterScope, question: string): { similarity: number; nearest: string | null } {
  const grams = wordNgrams(question, 2);
  let best = { similarity: 0, nearest: null as string | null };
  for (const candidate of scope.questions) {
    const similarity = jaccard(grams, wordNgrams(candidate, 2));
    if (similarity > best.similarity) best = { similarity, nearest: candidate };
  }
  return best;
}

/** A question is in scope when some trained question is at least `minSimilarity` similar; no scope = everywhere. */
export function inAdapterScope(scope: AdapterScope | null, question: string): boolean {
  return scope === null || scopeSimilarity(scope, question).similarity >= scope.minSimilarity;
}

/**
 * A scope check that keeps each question's word bigrams once (serving asks it on every turn). Questions are
 * de-duplicated case-insensitively.
 */
export function scopeMatcher(scope: AdapterScope | null): (question: string) => boolean {
  if (scope === null) return () => true;
  const trained = [...new Map(scope.questions.map((q) => [q.toLowerCase(), wordNgrams(q, 2)])).values()];
  return (question) => {
    const grams = wordNgrams(question, 2);
    return trained.some((other) => jaccard(grams, other) >= scope.minSimilarity);
  };
}

/** The scope stored in an adapter GGUF, or null when it has none (applies everywhere). GGUF_INVALID on a malformed one. */
export function readAdapterScope(path: string): AdapterScope | null {
  const file = readGguf(path);
  const questions = file.metadata.get(ADAPTER_SCOPE_KEYS.questions);
  if (questions === undefined) return null;
  const minSimilarity = file.metadata.get(ADAPTER_SCOPE_KEYS.minSimilarity);
  if (!Array.isArray(questions) || !questions.every((q) => typeof q === "string") || typeof minSimilarity !== "number" || !(minSimilarity >= 0 && minSimilarity <= 1)) {
    throw new CouncilError("GGUF_INVALID", `${path}: ${ADAPTER_SCOPE_KEYS.questions} must be a string array and ${ADAPTER_SCOPE_KEYS.minSimilarity} a number in [0, 1].`, { details: { path } });
  }
  return { questions: questions as string[], minSimilarity };
}

/**
 * Rewrites an adapter GGUF in place (through a temporary file and a rename) with `scope` in its metadata, replacing
 * any earlier scope; tensors are copied byte for byte. An empty question list is CONFIG_INVALID (it would switch
 * the adapter off everywhere).
 */
export async function writeAdapterScope(path: string, scope: AdapterScope): Promise<void> {
  if (scope.questions.length === 0) throw new CouncilError("CONFIG_INVALID", "An adapter scope needs at least one question.");
  if (!(scope.minSimilarity >= 0 && scope.minSimilarity <= 1)) throw new CouncilError("CONFIG_INVALID", `Scope similarity must be in [0, 1], got ${scope.minSimilarity}.`);
  const file = readGguf(path);
  const keys = new Set<string>(Object.values(ADAPTER_SCOPE_KEYS));
  const kv: GgufKv[] = [
    ...file.kv.filter((entry) => !keys.has(entry.key)),
    { key: ADAPTER_SCOPE_KEYS.questions, type: "array", itemType: "string", value: [...new Set(scope.questions)] },
    { key: ADAPTER_SCOPE_KEYS.minSimilarity, type: "f32", value: scope.minSimilarity },
  ];
  const tensors: GgufTensorInput[] = file.tensors.map((tensor) => ({ name: tensor.name, dims: tensor.dims, type: tensor.type, bytes: () => readTensorBytes(file, tensor.name) }));
  const temporary = `${path}.scope-${process.pid}.tmp`;
  await writeGguf({ path: temporary, kv, tensors });
  await rename(temporary, path);
}

/**
 * Scopes a trained adapter (`<dir>/adapter.gguf`) and keeps its `training.json` true to the file: the adapter's
 * sha256 and size after the rewrite, and the scope (question count, similarity).
 */
export async function scopeTrainedAdapter(adapterPath: string, scope: AdapterScope): Promise<void> {
  await writeAdapterScope(adapterPath, scope);
  const reportPath = join(dirname(adapterPath), "training.json");
  if (!existsSync(reportPath)) return;
  const report = JSON.parse(await readFile(reportPath, "utf8")) as { adapter?: { sha256?: string; bytes?: number } };
  const scoped = { ...report, adapter: { ...report.adapter, sha256: await sha256File(adapterPath), bytes: (await stat(adapterPath)).size }, scope: { questions: new Set(scope.questions).size, minSimilarity: scope.minSimilarity } };
  const temporary = `${reportPath}.scope-${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(scoped, null, 2)}\n`);
  await rename(temporary, reportPath);
}
