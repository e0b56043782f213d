import { z } from "zod";
import { dataPaths, type CouncilConfig } from "../core/index.js";
import { FileRunRecords, type RunRecord, type RunRecords } from "../cron/index.js";
import { AdapterRegistry, type HistoryEntry } from "./adapter-registry.js";
import type { CanaryState } from "./canary-state.js";
import { FileReleaseStore, type ReleaseStore } from "./release-store.js";

/** The fields `status` shows from a run's summary (`summary.json`, written by the improvement graph; kept in its run record). */
const runSummarySchema = z
  .object({
    runId: z.string(),
    outcome: z.string(),
    reasons: z.array(z.string()),
    version: z.string().nullable().optional(),
    endedAt: z.number().optional(),
  })
  .passthrough();
export type RunStatus = z.infer<typeof runSummarySchema> & {
  /** Set while the run is going (no summary yet): the stage it reached last, and when. */
  stage?: string | null;
  updatedAt?: number;
};

export interface DeployStatus {
  current: string | null;
  previous: string | null;
  /** The live or last canary (null when none ever ran). */
  canary: (CanaryState & { stableWeight: number }) | null;
  versions: Array<{ version: string; createdAt: string }>;
  history: HistoryEntry[];
  runs: RunStatus[];
  /** Problems reading state (an unsafe link, a corrupt file): reported, never thrown. */
  problems: string[];
}

/** Everything `council status` shows, read from the release store and the run records. Never throws on bad state files. */
export async function collectDeployStatus({ config, runs: runLimit = 5, historyLimit = 10, releases: given, runRecords }: { config: Pick<CouncilConfig, "dataDir">; runs?: number; historyLimit?: number; /** @default loras/ (FileReleaseStore) */ releases?: ReleaseStore; /** @default the run folders of the data dir (FileRunRecords) */ runRecords?: RunRecords }): Promise<DeployStatus> {
  const registry = await AdapterRegistry.create({ config });
  const releases = given ?? new FileReleaseStore({ registry });
  const problems: string[] = [];
  const attempt = async <T>(what: string, read: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      return await read();
    } catch (error) {
      problems.push(`${what}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const where = (file: string) => (releases.shared ? `${releases.name} release` : file);
  const current = await attempt(where("loras/current"), async () => {
    const { version, problem } = await releases.stable();
    if (problem) throw problem;
    return version;
  }, null);
  const previous = await attempt(where("loras/previous"), () => releases.previous(), null);
  const canaryState = await attempt(where("loras/canary.json"), () => releases.canary(), null);
  const versions = (await registry.list()).map((v) => ({ version: v.version, createdAt: v.createdAt.toISOString() }));
  const history = (await attempt(where("loras/history.jsonl"), () => releases.history(), [])).slice(-historyLimit);
  const records = runRecords ?? new FileRunRecords({ runsDir: dataPaths(config).runs });
  const runs = await attempt(`runs (${records.where})`, async () => (await records.list({ limit: runLimit })).map(runStatus), []);
  const live = canaryState?.status === "running" ? canaryState.weight : 0;
  return { current, previous, canary: canaryState ? { ...canaryState, stableWeight: 100 - live } : null, versions, history, runs, problems };
}

/** A record as `status` shows it: its summary when it has one, otherwise its status and last stage (a night still going). */
function runStatus(record: RunRecord): RunStatus {
  if (record.status === "running" || record.summary === null) return { runId: record.runId, outcome: record.status, reasons: record.reasons, stage: record.stage, updatedAt: record.updatedAt };
  const parsed = runSummarySchema.safeParse(record.summary);
  return parsed.success ? parsed.data : { runId: record.runId, outcome: "unreadable", reasons: [parsed.error.issues[0]?.message ?? "summary does not match"] };
}

/** Plain-text rendering for the terminal. */
export function formatDeployStatus(status: DeployStatus): string {
  const lines = [`current:  ${status.current ?? "(base model)"}`, `previous: ${status.previous ?? "(none)"}`];
  const canary = status.canary;
  if (canary === null) lines.push("canary:   (none)");
  else if (canary.status === "running") lines.push(`canary:   ${canary.version} at ${canary.weight}% (stable ${canary.stable ?? "base"} at ${canary.stableWeight}%), step ${canary.step + 1}, since ${canary.startedAt}`);
  else lines.push(`canary:   last ${canary.version} ${canary.status} at ${canary.updatedAt}${canary.reason ? ` (${canary.reason})` : ""}; weights: stable 100%`);
  lines.push(`versions: ${status.versions.length}${status.versions.length ? ` (newest ${status.versions.at(-1)!.version})` : ""}`);
  if (status.runs.length > 0) {
    lines.push("last runs:");
    for (const run of status.runs) {
      const stage = run.stage ? `  at ${run.stage} (${new Date(run.updatedAt ?? 0).toISOString()})` : "";
      lines.push(`  ${run.runId}  ${run.outcome}${stage}${run.version ? `  ${run.version}` : ""}${run.reasons.length ? `  — ${run.reasons.join("; ")}` : ""}`);
    }
  }
  if (status.history.length > 0) {
    lines.push("switches:");
    for (const entry of status.history.slice(-5)) lines.push(`  ${entry.at}  ${entry.action}  ${entry.from ?? "(none)"} → ${entry.to}  (${entry.reason})`);
  }
  for (const problem of status.problems) lines.push(`problem:  ${problem}`);
  return lines.join("\n");
}
