import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError, isCouncilError, safeParseJson } from "../core/index.js";
import { newestFirst, runIdSchema, runRecordSchema, type RunEnd, type RunRecord, type RunRecords } from "./run-records.js";

/** `record.json`: the record's own fields; the summary and the report stay in `summary.json`, `report.md`, `report.json`. */
const recordFileSchema = runRecordSchema.omit({ summary: true, report: true });
type RecordFile = z.infer<typeof recordFileSchema>;

/** The fields of a `summary.json` a folder without `record.json` (a night before run records) is listed by. */
const legacySummarySchema = z.object({ runId: z.string(), until: z.number().optional(), endedAt: z.number().optional(), outcome: z.string(), reasons: z.array(z.string()) }).passthrough();

/**
 * Run records in the data dir: `<runsDir>/<runId>/record.json` beside the run's `summary.json`, `report.md` and
 * `report.json` (the report's facts). Folders of nights before run records (a `summary.json`, no `record.json`)
 * are listed as finished. One data dir only: another replica's runs folder is not seen.
 */
export class FileRunRecords implements RunRecords {
  readonly name = "file";
  readonly shared = false;
  readonly #runsDir: string;

  constructor({ runsDir }: { runsDir: string }) {
    this.#runsDir = runsDir;
  }

  get where(): string {
    return this.#runsDir;
  }

  async start({ runId, at }: { runId: string; at: number }): Promise<void> {
    const current = await this.#readRecordFile(runId);
    await this.#writeJson(runId, "record.json", current ? { ...current, status: "running", updatedAt: at, finishedAt: null } : fresh(runId, at));
  }

  async progress({ runId, stage, at }: { runId: string; stage: string; at: number }): Promise<void> {
    const current = (await this.#readRecordFile(runId)) ?? fresh(runId, at);
    await this.#writeJson(runId, "record.json", { ...current, stage, updatedAt: at });
  }

  async end({ runId, at, status, outcome, reasons, summary, report }: RunEnd): Promise<void> {
    const current = (await this.#readRecordFile(runId)) ?? fresh(runId, at);
    await this.#writeJson(runId, "summary.json", summary);
    if (report !== null) {
      await this.#write(runId, "report.md", report.markdown);
      await this.#writeJson(runId, "report.json", report.facts);
    } else {
      // No report this time: an older one must not pass for it (a record's report needs report.json, which only this store writes).
      await rm(join(this.#runsDir, runId, "report.json"), { force: true });
    }
    await this.#writeJson(runId, "record.json", { ...current, status, updatedAt: at, finishedAt: status === "finished" ? at : null, outcome, reasons });
  }

  async get(runId: string): Promise<RunRecord | null> {
    if (!runIdSchema.safeParse(runId).success) return null;
    const dir = join(this.#runsDir, runId);
    const summary = await this.#readJson(dir, "summary.json", z.record(z.unknown()));
    const base = (await this.#readRecordFile(runId)) ?? (summary ? fromLegacySummary(runId, summary) : null);
    if (base === null) return null;
    const markdown = existsSync(join(dir, "report.md")) ? await readFile(join(dir, "report.md"), "utf8") : null;
    const facts = await this.#readJson(dir, "report.json", z.record(z.unknown()));
    return { ...base, summary, report: markdown !== null && facts !== null ? { markdown, facts } : null };
  }

  async list({ limit = 10, ended = false }: { limit?: number; ended?: boolean } = {}): Promise<RunRecord[]> {
    if (!existsSync(this.#runsDir)) return [];
    const entries = await readdir(this.#runsDir, { withFileTypes: true });
    const records: RunRecord[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const record = await this.get(entry.name).catch((error: unknown) => unreadable(join(this.#runsDir, entry.name), entry.name, error));
      if (record !== null && (!ended || record.summary !== null)) records.push(record);
    }
    return records.sort(newestFirst).slice(0, limit);
  }

  async dispose(): Promise<void> {}

  async #readRecordFile(runId: string): Promise<RecordFile | null> {
    return this.#readJson(join(this.#runsDir, runIdSchema.parse(runId)), "record.json", recordFileSchema);
  }

  /** A missing file is null; a corrupt one is MEMORY_CORRUPT naming it (never a made-up record). */
  async #readJson<T>(dir: string, file: string, schema: z.ZodType<T>): Promise<T | null> {
    const path = join(dir, file);
    if (!existsSync(path)) return null;
    const parsed = safeParseJson(await readFile(path, "utf8"), schema, "MEMORY_CORRUPT");
    if (!parsed.success) throw new CouncilError("MEMORY_CORRUPT", `${path}: ${parsed.error.message}`, { cause: parsed.error });
    return parsed.value;
  }

  #writeJson(runId: string, file: string, value: unknown): Promise<void> {
    return this.#write(runId, file, JSON.stringify(value, null, 2));
  }

  /** Write to a temp file and rename, so a reader never sees half a file. */
  async #write(runId: string, file: string, text: string): Promise<void> {
    const dir = join(this.#runsDir, runIdSchema.parse(runId));
    await mkdir(dir, { recursive: true });
    const temp = join(dir, `.${file}.${process.pid}.tmp`);
    await writeFile(temp, text);
    await rename(temp, join(dir, file));
  }
}

/**
 * A run folder whose files are corrupt is still listed (outcome `unreadable`, the reason naming the file), at the
 * folder's modification time, so one bad folder does not hide the others from `council status`; `get` still
 * raises MEMORY_CORRUPT for it.
 */
async function unreadable(dir: string, runId: string, error: unknown): Promise<RunRecord | null> {
  if (!isCouncilError(error, "MEMORY_CORRUPT") || !runIdSchema.safeParse(runId).success) throw error;
  const at = (await stat(dir)).mtimeMs;
  return { runId, status: "finished", startedAt: at, updatedAt: at, finishedAt: at, stage: null, outcome: "unreadable", reasons: [error.message], summary: null, report: null };
}

function fresh(runId: string, at: number): RecordFile {
  return { runId, status: "running", startedAt: at, updatedAt: at, finishedAt: null, stage: null, outcome: null, reasons: [] };
}

/** A night before run records: it started at its window's end (`until`) and ended at `endedAt` (0 when a summary lacks them). */
function fromLegacySummary(runId: string, summary: Record<string, unknown>): RecordFile | null {
  const parsed = legacySummarySchema.safeParse(summary);
  if (!parsed.success) return null;
  const { outcome, reasons } = parsed.data;
  const endedAt = parsed.data.endedAt ?? parsed.data.until ?? 0;
  const until = parsed.data.until ?? endedAt;
  const waiting = outcome === "awaiting-approval";
  return { runId, status: waiting ? "awaiting-approval" : "finished", startedAt: until, updatedAt: endedAt, finishedAt: waiting ? null : endedAt, stage: null, outcome, reasons };
}
