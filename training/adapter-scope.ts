import { existsSync } from "node:fs";
import { readFile, rename, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CouncilError } from "../core/index.js";
import { readGguf, readTensorBytes, sha256File, writeGguf, type GgufKv, type GgufTensorInput } from "../models/index.js";
import { jaccard, wordNgrams } from "./datasets/text-similarity.js";

/** GGUF keys of an adapter's scope: the questions it was trained to answer, and how close a question must be. */
export const ADAPTER_SCOPE_KEYS = { questions: "council.scope.questions", minSimilarity: "council.scope.min_similarity", keep: "council.scope.keep" } as const;

/** Most questions kept on the base model that one adapter file carries (the night's passing questions, beyond which a scope stays correct but keeps fewer). */
export const MAX_SCOPE_KEEP = 20_000;

/**
 * Where a nightly adapter applies: the questions it was trained on (every night's fixes; training is cumulative),
 * the least word-bigram Jaccard similarity a question needs to one of them, and the questions the base model already
 * answers right (`keep`). A question is in scope when its nearest trained question is at least that similar **and**
 * nearer than every kept one — so "… from section 7 using man?", answered right, stays on the base model beside the
 * fix "… using man?" (similarity 0.67). Outside its scope a turn is answered by the base model, so an adapter can only
 * change answers near what it learned. Carried in the adapter's GGUF (so its content hash covers it).
 */
export interface AdapterScope {
  questions: readonly string[];
  minSimilarity: number;
  /** Questions answered right without the adapter: a question nearer to one of them stays on the base model. */
  keep?: readonly string[];
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

/**
 * The scope check: in scope when a trained question is at least `minSimilarity` similar and nearer than every kept one;
 * no scope = everywhere. Each question's word bigrams are indexed once (serving asks on every turn): a turn reads only
 * the posting lists of its own bigrams, so its cost follows how many known questions share a bigram with it, not how
 * many the adapter carries (up to MAX_SCOPE_KEEP kept ones).
 */
export function scopeMatcher(scope: AdapterScope | null): (question: string) => boolean {
  if (scope === null) return () => true;
  const trained = new BigramIndex(scope.questions);
  const kept = new BigramIndex(scope.keep ?? []);
  return (question) => {
    const own = wordNgrams(question, 2);
    const fix = trained.nearest(own);
    const keep = kept.nearest(own);
    // a tie with a kept question goes to the base model (the safe side); nothing in common with either does not
    return fix >= scope.minSimilarity && (fix > keep || keep === 0);
  };
}

/** Distinct questions' word bigrams with an inverted index, for the exact nearest Jaccard similarity of a new question. */
class BigramIndex {
  readonly #sizes: number[] = [];
  readonly #postings = new Map<string, number[]>();

  constructor(questions: readonly string[]) {
    for (const grams of new Map(questions.map((q) => [q.toLowerCase(), wordNgrams(q, 2)])).values()) {
      const id = this.#sizes.push(grams.size) - 1;
      for (const gram of grams) {
        const list = this.#postings.get(gram);
        if (list === undefined) this.#postings.set(gram, [id]);
        else list.push(id);
      }
    }
  }

  /** The highest Jaccard similarity of `grams` to an indexed question (0 when none shares a bigram). */
  nearest(grams: ReadonlySet<string>): number {
    const shared = new Map<number, number>();
    for (const gram of grams) for (const id of this.#postings.get(gram) ?? []) shared.set(id, (shared.get(id) ?? 0) + 1);
    let best = 0;
    for (const [id, count] of shared) best = Math.max(best, count / (grams.size + this.#sizes[id]! - count));
    return best;
  }
}

/**
 * The kept questions to store: distinct, at most MAX_SCOPE_KEEP — those nearest to a trained question first. A question
 * both trained and kept (one turn failed, another passed) stays kept: a tie goes to the base model, so an answer that
 * has passed for that very question is never changed.
 */
function keptQuestions(scope: AdapterScope): string[] {
  const keep = [...new Map((scope.keep ?? []).map((q) => [q.toLowerCase(), q])).values()];
  if (keep.length <= MAX_SCOPE_KEEP) return keep;
  const fixes = { questions: scope.questions, minSimilarity: 0 };
  return keep.map((q) => ({ q, near: scopeSimilarity(fixes, q).similarity })).sort((a, b) => b.near - a.near).slice(0, MAX_SCOPE_KEEP).map(({ q }) => q);
}

/** The scope stored in an adapter GGUF, or null when it has none (applies everywhere). GGUF_INVALID on a malformed one. */
export function readAdapterScope(path: string): AdapterScope | null {
  const file = readGguf(path);
  const questions = file.metadata.get(ADAPTER_SCOPE_KEYS.questions);
  if (questions === undefined) return null;
  const minSimilarity = file.metadata.get(ADAPTER_SCOPE_KEYS.minSimilarity);
  const keep = file.metadata.get(ADAPTER_SCOPE_KEYS.keep) ?? [];
  const strings = (value: unknown): value is string[] => Array.isArray(value) && value.every((q) => typeof q === "string");
  if (!strings(questions) || !strings(keep) || typeof minSimilarity !== "number" || !(minSimilarity >= 0 && minSimilarity <= 1)) {
    throw new CouncilError("GGUF_INVALID", `${path}: ${ADAPTER_SCOPE_KEYS.questions} and ${ADAPTER_SCOPE_KEYS.keep} must be string arrays and ${ADAPTER_SCOPE_KEYS.minSimilarity} a number in [0, 1].`, { details: { path } });
  }
  return { questions, minSimilarity, keep };
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
    { key: ADAPTER_SCOPE_KEYS.keep, type: "array", itemType: "string", value: keptQuestions(scope) },
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
  const scoped = { ...report, adapter: { ...report.adapter, sha256: await sha256File(adapterPath), bytes: (await stat(adapterPath)).size }, scope: { questions: new Set(scope.questions).size, keep: keptQuestions(scope).length, minSimilarity: scope.minSimilarity } };
  const temporary = `${reportPath}.scope-${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(scoped, null, 2)}\n`);
  await rename(temporary, reportPath);
}
