import pg from "pg";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { applyMigrations, redactDatabaseUrl } from "../memory/index.js";
import { newestFirst, runIdSchema, runRecordSchema, type RunEnd, type RunRecord, type RunRecords } from "./run-records.js";

interface RunRow {
  run_id: string;
  status: string;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
  stage: string | null;
  outcome: string | null;
  reasons: unknown;
  summary: unknown;
  report_markdown: string | null;
  report_facts: unknown;
}

const COLUMNS = "run_id, status, started_at, updated_at, finished_at, stage, outcome, reasons, summary, report_markdown, report_facts";

export interface PostgresRunRecordsOptions {
  /** postgres://… (COUNCIL_DATABASE_URL). Migrations (12: `council_runs`) are applied on first use. */
  url: string;
  logger?: Logger;
  /** @default 2 */
  poolSize?: number;
}

/**
 * Run records in Postgres (table `council_runs`, migration 12), shared by every replica: a night recorded by the
 * replica that ran it is listed by `council report` and `council status` on any other. Each write is one upsert.
 */
export class PostgresRunRecords implements RunRecords {
  readonly name = "postgres";
  readonly shared = true;
  readonly where: string;
  readonly #pool: pg.Pool;
  readonly #logger: Logger;
  #ready: Promise<void> | null = null;

  constructor({ url, logger = silentLogger, poolSize = 2 }: PostgresRunRecordsOptions) {
    this.where = `Postgres ${redactDatabaseUrl(url)}`;
    this.#logger = logger;
    // allowExitOnIdle: a CLI command that read a record exits without waiting for idle connections to time out.
    this.#pool = new pg.Pool({ connectionString: url, max: poolSize, allowExitOnIdle: true });
    this.#pool.on("error", (error) => this.#logger.error({ err: error }, "idle Postgres connection failed (run records)"));
  }

  async start({ runId, at }: { runId: string; at: number }): Promise<void> {
    await this.#query(
      `INSERT INTO council_runs (run_id, status, started_at, updated_at) VALUES ($1, 'running', $2, $2)
       ON CONFLICT (run_id) DO UPDATE SET status = 'running', updated_at = EXCLUDED.updated_at, finished_at = NULL`,
      [runIdSchema.parse(runId), at],
    );
  }

  async progress({ runId, stage, at }: { runId: string; stage: string; at: number }): Promise<void> {
    await this.#query(
      `INSERT INTO council_runs (run_id, status, started_at, updated_at, stage) VALUES ($1, 'running', $2, $2, $3)
       ON CONFLICT (run_id) DO UPDATE SET stage = EXCLUDED.stage, updated_at = EXCLUDED.updated_at`,
      [runIdSchema.parse(runId), at, stage],
    );
  }

  async end({ runId, at, status, outcome, reasons, summary, report }: RunEnd): Promise<void> {
    await this.#query(
      `INSERT INTO council_runs (${COLUMNS}) VALUES ($1, $2, $3, $3, $4, NULL, $5, $6, $7, $8, $9)
       ON CONFLICT (run_id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, finished_at = EXCLUDED.finished_at,
         outcome = EXCLUDED.outcome, reasons = EXCLUDED.reasons, summary = EXCLUDED.summary, report_markdown = EXCLUDED.report_markdown, report_facts = EXCLUDED.report_facts`,
      [runIdSchema.parse(runId), status, at, status === "finished" ? at : null, outcome, JSON.stringify(reasons), JSON.stringify(summary), report?.markdown ?? null, report === null ? null : JSON.stringify(report.facts)],
    );
  }

  async get(runId: string): Promise<RunRecord | null> {
    if (!runIdSchema.safeParse(runId).success) return null;
    const rows = await this.#query(`SELECT ${COLUMNS} FROM council_runs WHERE run_id = $1`, [runId]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  async list({ limit = 10, ended = false }: { limit?: number; ended?: boolean } = {}): Promise<RunRecord[]> {
    const where = ended ? "WHERE summary IS NOT NULL" : "";
    const rows = await this.#query(`SELECT ${COLUMNS} FROM council_runs ${where} ORDER BY started_at DESC, run_id DESC LIMIT $1`, [Math.max(0, Math.floor(limit))]);
    // Postgres orders text by collation; the contract orders run ids by code point, as the file store does.
    return rows.map(toRecord).sort(newestFirst);
  }

  async dispose(): Promise<void> {
    await this.#pool.end();
  }

  async #query(text: string, values: unknown[]): Promise<RunRow[]> {
    this.#ready ??= this.#migrate().catch((error: unknown) => {
      this.#ready = null;
      throw error;
    });
    await this.#ready;
    return (await this.#pool.query<RunRow>(text, values)).rows;
  }

  /** The schema this code knows (replicas starting together migrate once: applyMigrations holds an advisory lock). */
  async #migrate(): Promise<void> {
    const client = await this.#pool.connect().catch((cause: unknown) => {
      throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot connect to ${this.where} for the run records: ${(cause as Error).message}. Check COUNCIL_DATABASE_URL.`, { cause });
    });
    try {
      const applied = await applyMigrations(client);
      if (applied.length > 0) this.#logger.info({ applied }, "schema migrated");
    } finally {
      client.release();
    }
  }
}

function toRecord(row: RunRow): RunRecord {
  const parsed = runRecordSchema.safeParse({
    runId: row.run_id,
    status: row.status,
    startedAt: row.started_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
    stage: row.stage,
    outcome: row.outcome,
    reasons: row.reasons,
    summary: row.summary,
    report: row.report_markdown === null || row.report_facts === null ? null : { markdown: row.report_markdown, facts: row.report_facts },
  });
  if (!parsed.success) throw new CouncilError("MEMORY_CORRUPT", `The run record ${row.run_id} in Postgres is corrupt: ${parsed.error.issues[0]?.message}`, { cause: parsed.error });
  return parsed.data;
}
