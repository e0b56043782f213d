import { createHash } from "node:crypto";
import { mkdir, open, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { existsSync } from "node:fs";
import { CouncilError } from "../../core/index.js";
import { renderPrompt, type TemplateMessage } from "../../models/index.js";
import { nightlyTrainingSet } from "../nightly-replay.js";
import { applyUserCaps } from "./caps.js";
import { ContaminationIndex, type ContaminationHit, type EvalSet } from "./contamination.js";
import { emptyPiiCounts, scrubPii, type PiiCounts } from "./pii.js";
import { jaccard, wordNgrams } from "./text-similarity.js";

/** An accepted rewrite: the council chose `chosen` over the failed answer `rejected`. */
export interface AcceptedExample {
  id: string;
  /** Trace ids of the turns this example came from. */
  traceIds: string[];
  userId: string;
  /** Unix ms of the source turn. */
  createdAt: number;
  question: string;
  /** Exactly the messages the answerer saw (system, retrieved context, history, question), without the answer. */
  messages: TemplateMessage[];
  chosen: string;
  rejected?: string;
}

/** A turn the user rated: 👍 → label true, 👎 → false (KTO). */
export interface RatedExample {
  id: string;
  traceIds: string[];
  userId: string;
  createdAt: number;
  question: string;
  messages: TemplateMessage[];
  completion: string;
  label: boolean;
}

export interface BuildDatasetOptions {
  accepted: readonly AcceptedExample[];
  rated?: readonly RatedExample[];
  /**
   * Passing answers (rated 👍 and verified by the council) to replay beside the fixes in the SFT files, so the adapter
   * keeps what already worked: up to ⌈replayRatio × SFT examples⌉ of them, in the order given. @default []
   */
  replay?: readonly AcceptedExample[];
  /** @default 0 (no replay) */
  replayRatio?: number;
  /** Every eval set the adapter will be judged on: any overlap fails the build. */
  evalSets: readonly EvalSet[];
  outDir: string;
  maxPerUserPerDay: number;
  maxUserShare: number;
  /** Word-trigram Jaccard at or above which two questions count as near-duplicates. @default 0.9 */
  duplicateThreshold?: number;
  /** Replace an existing outDir. @default false */
  overwrite?: boolean;
  now?: () => number;
}

export interface FilterReport {
  name: string;
  dropped: number;
  ids: string[];
}

export interface DatasetManifest {
  version: 1;
  createdAt: string;
  files: Record<string, { sha256: string; lines: number }>;
  /** `sft`: lines of the SFT files (fixes and replay); `replay`: replayed passing answers among them (absent when none). */
  counts: { accepted: number; rated: number; sft: number; dpo: number; kto: number; replay?: number };
  sourceTraceIds: string[];
  filters: FilterReport[];
  pii: PiiCounts;
  evalSets: Array<{ name: string; items: number }>;
  /** sha256 over the sorted file hashes: identifies the dataset in training.json. */
  sha256: string;
}

export const DATASET_FILES = {
  sftMessages: "sft.messages.jsonl",
  sftPromptCompletion: "sft.prompt-completion.jsonl",
  dpo: "dpo.jsonl",
  kto: "kto.jsonl",
  manifest: "manifest.json",
} as const;

function scrubExample<T extends { question: string; messages: TemplateMessage[] }>(example: T, fields: ReadonlyArray<keyof T>, counts: PiiCounts): T {
  const copy = { ...example, question: scrubPii(example.question, counts).text, messages: example.messages.map((m) => ({ ...m, content: scrubPii(m.content, counts).text })) };
  for (const field of fields) {
    const value = copy[field];
    if (typeof value === "string") (copy as Record<keyof T, unknown>)[field] = scrubPii(value, counts).text;
  }
  return copy;
}

function validate(example: { id: string; question: string; messages: TemplateMessage[] }, answer: string | undefined): void {
  if (!example.id || example.question.trim() === "" || example.messages.length === 0 || !answer || answer.trim() === "") {
    throw new CouncilError("DATASET_INVALID", `Example ${example.id || "(no id)"} has an empty question, prompt or answer.`, { details: { id: example.id } });
  }
}

function dropNearDuplicates<T extends { id: string; question: string }>(items: readonly T[], threshold: number): { kept: T[]; dropped: T[] } {
  const kept: T[] = [];
  const keptGrams: Array<Set<string>> = [];
  const dropped: T[] = [];
  for (const item of items) {
    const grams = wordNgrams(item.question, 3);
    if (keptGrams.some((other) => jaccard(grams, other) >= threshold)) dropped.push(item);
    else {
      kept.push(item);
      keptGrams.push(grams);
    }
  }
  return { kept, dropped };
}

/**
 * Builds SFT (TRL `messages` and prompt/completion), DPO and KTO JSONL files plus a manifest.
 * Order: validate → PII scrub → contamination check (any hit fails with the offending ids, nothing written)
 * → near-duplicate removal → per-user caps → write into a temp folder, fsync, rename.
 */
export async function buildDataset({ accepted, rated = [], replay = [], replayRatio = 0, evalSets, outDir, maxPerUserPerDay, maxUserShare, duplicateThreshold = 0.9, overwrite = false, now = Date.now }: BuildDatasetOptions): Promise<DatasetManifest> {
  for (const example of accepted) validate(example, example.chosen);
  for (const example of rated) validate(example, example.completion);
  for (const example of replay) validate(example, example.chosen);
  if (existsSync(outDir) && !overwrite) {
    throw new CouncilError("DATASET_INVALID", `${outDir} already exists; choose another --out or pass overwrite.`);
  }

  const pii = emptyPiiCounts();
  const scrubbedAccepted = accepted.map((example) => scrubExample(example, ["chosen", "rejected"], pii));
  const scrubbedRated = rated.map((example) => scrubExample(example, ["completion"], pii));
  const scrubbedReplay = replay.map((example) => scrubExample(example, ["chosen"], pii));

  const contamination = new ContaminationIndex({ evalSets });
  const hits: ContaminationHit[] = [
    ...scrubbedAccepted.flatMap((example) => contamination.check(example.id, [example.question, example.chosen])),
    ...scrubbedRated.flatMap((example) => contamination.check(example.id, [example.question, example.completion])),
    ...scrubbedReplay.flatMap((example) => contamination.check(example.id, [example.question, example.chosen])),
  ];
  if (hits.length > 0) {
    const list = hits.map((hit) => `${hit.exampleId}~${hit.evalSet}/${hit.evalId} (${hit.reason})`).join(", ");
    throw new CouncilError("DATASET_CONTAMINATED", `Training data overlaps eval sets: ${list}. Remove these examples or the eval items.`, { details: { hits } });
  }

  const filters: FilterReport[] = [];
  const report = (name: string, dropped: ReadonlyArray<{ id: string }>) => filters.push({ name, dropped: dropped.length, ids: dropped.map((item) => item.id) });

  const deduped = dropNearDuplicates(scrubbedAccepted, duplicateThreshold);
  report("near-duplicate", deduped.dropped);
  const capped = applyUserCaps({ items: deduped.kept, maxPerUserPerDay, maxUserShare });
  report("per-user-per-day", capped.droppedPerDay);
  report("per-user-share", capped.droppedShare);
  const ratedCapped = applyUserCaps({ items: scrubbedRated, maxPerUserPerDay, maxUserShare });
  report("rated-per-user-per-day", ratedCapped.droppedPerDay);
  report("rated-per-user-share", ratedCapped.droppedShare);

  // Content order, not arrival order: the trainer packs examples in file order, so the same accepted set must give
  // the same files (arrival follows random trace ids and concurrent answers).
  const contentKey = (example: (typeof capped.kept)[number]) => createHash("sha256").update(JSON.stringify([example.messages, example.chosen])).digest("hex");
  const examples = capped.kept.map((example) => ({ example, key: contentKey(example) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map(({ example }) => example);
  if (examples.length === 0 && ratedCapped.kept.length === 0) {
    throw new CouncilError("DATASET_EMPTY", "No examples remain after filtering; see the filter report.", { details: { filters } });
  }

  const asNightly = (e: AcceptedExample) => ({ id: e.id, messages: e.messages, answer: e.chosen });
  const sft = nightlyTrainingSet({ fixes: examples.map(asNightly), replay: scrubbedReplay.map(asNightly), replayRatio });
  const byId = new Map([...scrubbedReplay, ...examples].map((e) => [e.id, e]));
  const replayed = sft.filter((row) => row.kind === "replay").length;
  const lines = {
    [DATASET_FILES.sftMessages]: sft.map((row) => ({ messages: [...byId.get(row.id)!.messages, { role: "assistant", content: byId.get(row.id)!.chosen }], id: row.id, ...(row.kind === "replay" ? { kind: row.kind } : {}) })),
    [DATASET_FILES.sftPromptCompletion]: sft.map((row) => ({ prompt: row.prompt, completion: row.completion, id: row.id, ...(row.kind === "replay" ? { kind: row.kind } : {}) })),
    [DATASET_FILES.dpo]: examples.filter((e) => e.rejected).map((e) => ({ prompt: renderPrompt(e.messages), chosen: e.chosen, rejected: e.rejected, id: e.id })),
    [DATASET_FILES.kto]: ratedCapped.kept.map((e) => ({ prompt: renderPrompt(e.messages), completion: e.completion, label: e.label, id: e.id })),
  };

  const tempDir = join(dirname(outDir), `.${basename(outDir)}.tmp-${process.pid}-${now()}`);
  await mkdir(tempDir, { recursive: true });
  try {
    const files: DatasetManifest["files"] = {};
    for (const [name, rows] of Object.entries(lines)) {
      const text = rows.map((row) => JSON.stringify(row)).join("\n") + (rows.length > 0 ? "\n" : "");
      await writeDurable(join(tempDir, name), text);
      files[name] = { sha256: createHash("sha256").update(text).digest("hex"), lines: rows.length };
    }
    const manifest: DatasetManifest = {
      version: 1,
      createdAt: new Date(now()).toISOString(),
      files,
      counts: { accepted: accepted.length, rated: rated.length, sft: sft.length, dpo: lines[DATASET_FILES.dpo].length, kto: lines[DATASET_FILES.kto].length, ...(replayed > 0 ? { replay: replayed } : {}) },
      sourceTraceIds: [...new Set([...sft.map((row) => byId.get(row.id)!), ...ratedCapped.kept].flatMap((e) => e.traceIds))],
      filters,
      pii,
      evalSets: evalSets.map((set) => ({ name: set.name, items: set.items.length })),
      sha256: createHash("sha256").update(Object.values(files).map((f) => f.sha256).sort().join("\n")).digest("hex"),
    };
    await writeDurable(join(tempDir, DATASET_FILES.manifest), JSON.stringify(manifest, null, 2) + "\n");
    if (overwrite) await rm(outDir, { recursive: true, force: true });
    await rename(tempDir, outDir);
    return manifest;
  } catch (error) {
    await rm(tempDir, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === "ENOSPC") throw new CouncilError("DISK_FULL", `No space left writing the dataset to ${outDir}.`, { cause: error });
    throw error;
  }
}

async function writeDurable(path: string, text: string): Promise<void> {
  await writeFile(path, text);
  const handle = await open(path, "r+");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
