import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { z, type ZodType } from "zod";
import { safeParseJson } from "../../core/index.js";
import { datasetManifestSchema } from "../../training/datasets/index.js";
import { runSummarySchema, type RunSummary } from "./run-summary.js";

/** `harvest.json`: what the night harvested (written by run-nightly's finish, from the graph state). */
export const harvestRecordSchema = z.object({
  items: z.array(z.object({ id: z.string(), question: z.string(), category: z.string().nullable(), turns: z.number(), correction: z.boolean() })),
  rated: z.number(),
  filters: z.array(z.object({ name: z.string(), dropped: z.number() })),
});
export type HarvestRecord = z.infer<typeof harvestRecordSchema>;

const candidateSchema = z.object({ id: z.string(), itemId: z.string(), text: z.string(), source: z.string() });
const candidatesFileSchema = z.array(z.object({ itemId: z.string(), question: z.string(), kind: z.string(), candidates: z.array(candidateSchema) }));
const ballotsFileSchema = z.array(
  z.object({
    itemId: z.string(),
    accepted: z.boolean(),
    winnerId: z.string().nullable(),
    winnerScore: z.number(),
    ballots: z.array(z.object({ candidateId: z.string(), voter: z.string(), score: z.number(), reason: z.string() })),
    reason: z.string(),
  }),
);
const memoryGateFileSchema = z.object({
  kept: z.array(z.object({ question: z.string(), answer: z.string(), source: z.string() }).passthrough()),
  dropped: z.array(z.object({ question: z.string(), answer: z.string(), reason: z.string() })),
  checked: z.object({ holdout: z.number(), regression: z.number(), safety: z.number() }),
});
const memoryInfoSchema = z.object({
  candidates: z.number(),
  released: z.number(),
  dropped: z.array(z.object({ question: z.string(), reason: z.string() })),
  release: z.string().nullable(),
  status: z.enum(["canary", "active", "withdrawn"]).nullable(),
});
const releaseFileSchema = z.object({ adapter: z.string(), memory: memoryInfoSchema });
const gateFileSchema = z
  .object({
    passed: z.boolean(),
    reasons: z.array(z.string()),
    suites: z.array(
      z.object({ suite: z.string(), total: z.number(), successCandidate: z.number(), successCurrent: z.number(), p95LatencyMsCandidate: z.number(), p95LatencyMsCurrent: z.number(), passed: z.boolean(), reason: z.string() }).passthrough(),
    ),
    current: z.string().optional(),
    metrics: z
      .array(z.object({ metric: z.string(), passed: z.boolean().nullable(), reason: z.string(), candidate: z.number().optional(), current: z.number().optional(), unit: z.string().optional(), bar: z.string().optional() }).passthrough())
      .optional(),
    cost: z
      .object({
        unit: z.enum(["tokens", "characters"]),
        candidate: z.object({ answers: z.number(), perAnswer: z.number(), latencyMsPerAnswer: z.number() }),
        current: z.object({ answers: z.number(), perAnswer: z.number(), latencyMsPerAnswer: z.number() }),
        compared: z.object({ cases: z.number(), candidate: z.number(), current: z.number() }).optional(),
        ratio: z.number().nullable(),
        maxRatio: z.number(),
        passed: z.boolean(),
        reason: z.string(),
      })
      .passthrough()
      .optional(),
    released: z.object({ adapter: z.boolean(), memory: z.boolean(), entries: z.number() }).optional(),
  })
  .passthrough();
/** The part of the trainer's `training.json` the report shows (training/types.ts trainingReportSchema). */
const trainingFileSchema = z
  .object({
    hyperparameters: z.object({ epochs: z.number() }).passthrough(),
    lossCurve: z.array(z.object({ epoch: z.number(), loss: z.number(), seconds: z.number() }).passthrough()).min(1),
    durationSeconds: z.number(),
    dataset: z.object({ examples: z.number() }).passthrough(),
    /** Written when the night scoped the adapter (training/adapter-scope.ts). */
    scope: z.object({ questions: z.number(), minSimilarity: z.number(), keep: z.number().optional() }).optional(),
  })
  .passthrough();
/** `canary-result.json` in a run folder: the canary port's result with its analysis windows. */
export const canaryRecordSchema = z.object({
  outcome: z.enum(["promoted", "rolled-back"]),
  reason: z.string(),
  windows: z.array(
    z.object({ step: z.number(), weight: z.number(), at: z.string(), verdict: z.string(), reason: z.string(), metrics: z.array(z.object({ metric: z.string(), verdict: z.string(), reason: z.string() }).passthrough()).optional() }).passthrough(),
  ),
});

/** Everything a night left in `<runs>/<runId>/`, each file parsed (null when absent); unreadable files are listed in `problems`. */
export interface RunFolder {
  runId: string;
  summary: RunSummary | null;
  harvest: HarvestRecord | null;
  candidates: z.infer<typeof candidatesFileSchema> | null;
  ballots: z.infer<typeof ballotsFileSchema> | null;
  memoryGate: z.infer<typeof memoryGateFileSchema> | null;
  release: z.infer<typeof releaseFileSchema> | null;
  gate: z.infer<typeof gateFileSchema> | null;
  training: z.infer<typeof trainingFileSchema> | null;
  dataset: z.infer<typeof datasetManifestSchema> | null;
  canary: z.infer<typeof canaryRecordSchema> | null;
  problems: string[];
}

/** Reads a run folder for the morning report. Never throws on a missing or corrupt file: it is named in `problems`. */
export async function readRunFolder(runDir: string): Promise<RunFolder> {
  const problems: string[] = [];
  const read = async <T>(file: string, schema: ZodType<T>): Promise<T | null> => {
    const path = join(runDir, file);
    if (!existsSync(path)) return null;
    const parsed = safeParseJson(await readFile(path, "utf8"), schema, "MEMORY_CORRUPT");
    if (parsed.success) return parsed.value;
    problems.push(`${file}: ${parsed.error.message}`);
    return null;
  };
  const training = await read("adapter/training.json", trainingFileSchema);
  return {
    runId: basename(runDir),
    summary: await read("summary.json", runSummarySchema),
    harvest: await read("harvest.json", harvestRecordSchema),
    candidates: await read("candidates.json", candidatesFileSchema),
    ballots: await read("ballots.json", ballotsFileSchema),
    memoryGate: await read("memory-gate.json", memoryGateFileSchema),
    release: await read("release.json", releaseFileSchema),
    gate: await read("gate.json", gateFileSchema),
    training,
    dataset: await read("dataset/manifest.json", datasetManifestSchema),
    canary: await read("canary-result.json", canaryRecordSchema),
    problems,
  };
}
