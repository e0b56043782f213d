import { z } from "zod";

/** Run ids name folders under `<dataDir>/data/runs/`: no separators, no `..`. */
export const runIdSchema = z.string().regex(/^[\w][\w.-]*$/, "a run id (letters, digits, `_`, `.`, `-`)");

/** The morning report of a night: the markdown (`report.md`) and its facts (what `council report --json` prints). */
export const runReportSchema = z.object({ markdown: z.string(), facts: z.record(z.unknown()) });
export type RunReport = z.infer<typeof runReportSchema>;

/**
 * What every replica knows about one night. `summary` is the run's `summary.json` and `report` its morning report,
 * both as written when the run ended (or paused for approval); the run folder keeps the big artifacts.
 */
export const runRecordSchema = z.object({
  runId: runIdSchema,
  /** `running` from start (or resume) until it ends; `awaiting-approval` while paused at the approval step. */
  status: z.enum(["running", "awaiting-approval", "finished"]),
  /** Unix ms. */
  startedAt: z.number(),
  updatedAt: z.number(),
  finishedAt: z.number().nullable(),
  /** The improvement-graph node the run reached last (null until one starts). */
  stage: z.string().nullable(),
  outcome: z.string().nullable(),
  reasons: z.array(z.string()),
  summary: z.record(z.unknown()).nullable(),
  report: runReportSchema.nullable(),
});
export type RunRecord = z.infer<typeof runRecordSchema>;

export interface RunEnd {
  runId: string;
  at: number;
  /** `finished`, or `awaiting-approval` when the run paused for `council approve`. */
  status: "finished" | "awaiting-approval";
  outcome: string;
  reasons: string[];
  summary: Record<string, unknown>;
  /** Null when the morning report could not be rendered (the run still ended). */
  report: RunReport | null;
}

/**
 * The nightly runs' records as a port: the nightly loop writes one when a run starts, at each stage and when it
 * ends; `council report`, `council status` and the admin API read them. The file store keeps them in the data
 * dir's run folders; the Postgres store in the database every replica shares, so replica B lists the night A ran.
 */
export interface RunRecords {
  /** `file` or `postgres`. */
  readonly name: string;
  /** Where the records are, for messages: the runs folder, or Postgres. */
  readonly where: string;
  /** True when replicas with different data dirs see the same records. */
  readonly shared: boolean;
  /** A run starts, or resumes: creates its record, or sets an existing one back to `running` (start time kept). */
  start(run: { runId: string; at: number }): Promise<void>;
  /** The run reached `stage` (created first when unknown, e.g. a run started before records existed). */
  progress(run: { runId: string; stage: string; at: number }): Promise<void>;
  /** The run ended or paused for approval: its outcome, reasons, summary and report. */
  end(run: RunEnd): Promise<void>;
  /** One run's record, or null when there is none. */
  get(runId: string): Promise<RunRecord | null>;
  /**
   * Records newest first (by start, then run id). `ended`: only those with a summary (finished or awaiting approval).
   * @default limit 10
   */
  list(options?: { limit?: number; ended?: boolean }): Promise<RunRecord[]>;
  dispose(): Promise<void>;
}

/** Newest first: start time, then run id (both stores order the same way). */
export function newestFirst(a: RunRecord, b: RunRecord): number {
  return b.startedAt - a.startedAt || (a.runId < b.runId ? 1 : a.runId > b.runId ? -1 : 0);
}
