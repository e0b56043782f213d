import type { ClientBase } from "pg";
import { CouncilError } from "../core/index.js";

/** One schema step. Versions only grow; a shipped migration is never edited (add the next one instead). */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/**
 * The adapter release record shared by replicas (deploy/postgres-release-store.ts): one row saying which version is
 * stable / previous and the live canary (jsonb, the shape of loras/canary.json), plus the switch history. Listed
 * after the turn store's steps in {@link MIGRATIONS}; versions 10 and up.
 */
export const RELEASE_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 10,
    name: "adapter_release",
    sql: `
      CREATE TABLE council_adapter_release (
        id smallint PRIMARY KEY CHECK (id = 1),
        stable text,
        previous text,
        canary jsonb,
        revision bigint NOT NULL DEFAULT 0,
        updated_at timestamptz NOT NULL DEFAULT now()
      );
      INSERT INTO council_adapter_release (id) VALUES (1);
      CREATE TABLE council_adapter_release_history (
        seq bigserial PRIMARY KEY,
        at text NOT NULL,
        action text NOT NULL,
        from_version text,
        to_version text NOT NULL,
        reason text NOT NULL
      );
    `,
  },
  {
    // Adapter version folders (deploy/postgres-adapter-files.ts), so a replica materialises the version the release
    // record names instead of needing a copy of loras/versions/ from the replica that ran the night.
    version: 11,
    name: "adapter_files",
    sql: `
      CREATE TABLE council_adapter_files (
        version text NOT NULL,
        name text NOT NULL,
        bytes bytea NOT NULL,
        sha256 text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (version, name)
      );
    `,
  },
]);

/**
 * The nightly runs' records (cron/postgres-run-records.ts): one row per night with its status, outcome, reasons,
 * summary and morning report, so `council report` and `council status` on any replica see the night another ran.
 * The run folders (datasets, adapters) stay in each data dir. Listed after the release steps in {@link MIGRATIONS}.
 */
export const RUN_RECORD_MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 12,
    name: "run records",
    sql: `
      CREATE TABLE council_runs (
        run_id text PRIMARY KEY,
        status text NOT NULL,
        started_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        finished_at double precision,
        stage text,
        outcome text,
        reasons jsonb NOT NULL DEFAULT '[]',
        summary jsonb,
        report_markdown text,
        report_facts jsonb
      );
      CREATE INDEX council_runs_by_start ON council_runs (started_at DESC, run_id DESC);
    `,
  },
]);

/**
 * The turn store's schema, in order. `change_seq` orders every insert and update (writers hold one advisory lock,
 * so the order is the commit order): a replica pulls what changed after its watermark and its search cache follows.
 */
export const MIGRATIONS: readonly Migration[] = Object.freeze([
  {
    version: 1,
    name: "turns",
    sql: `
      CREATE SEQUENCE council_turn_changes;
      CREATE TABLE council_turns (
        seq bigserial UNIQUE,
        trace_id text PRIMARY KEY,
        session_id text NOT NULL,
        user_id text,
        question text NOT NULL,
        answer text NOT NULL,
        route text NOT NULL,
        model text NOT NULL,
        adapter text,
        score double precision NOT NULL,
        category text,
        reasons jsonb NOT NULL,
        success boolean NOT NULL,
        feedback jsonb,
        latency_ms double precision NOT NULL,
        tokens double precision NOT NULL,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        embedding bytea NOT NULL,
        embedding_key text NOT NULL,
        change_seq bigint NOT NULL
      );
      CREATE INDEX council_turns_by_time ON council_turns (created_at, seq);
      CREATE INDEX council_turns_failures_by_time ON council_turns (created_at, seq) WHERE NOT success;
      CREATE INDEX council_turns_by_change ON council_turns (change_seq);
    `,
  },
  {
    // Who holds a nightly run lock (the lock itself is a session advisory lock; this row only describes the holder,
    // and counts only while `backend_pid` still holds the lock).
    version: 2,
    name: "run lock holders",
    sql: `
      CREATE TABLE council_run_locks (
        lock_key bigint PRIMARY KEY,
        backend_pid integer NOT NULL,
        info jsonb NOT NULL
      );
    `,
  },
  {
    // Verified entries (VerifiedMemory's rows). `change_seq` moves on every write, so max(change_seq) and count(*)
    // together change whenever any replica changed the table: that is the version replicas reload on.
    version: 3,
    name: "verified entries",
    sql: `
      CREATE SEQUENCE council_verified_changes;
      CREATE TABLE council_verified (
        id text PRIMARY KEY,
        question text NOT NULL,
        answer text NOT NULL,
        source text NOT NULL,
        run_id text NOT NULL,
        vote_score double precision NOT NULL,
        ballots jsonb NOT NULL,
        release text NOT NULL,
        status text NOT NULL,
        trace_ids jsonb NOT NULL,
        note text,
        created_at double precision NOT NULL,
        updated_at double precision NOT NULL,
        change_seq bigint NOT NULL DEFAULT nextval('council_verified_changes')
      );
      CREATE INDEX council_verified_by_release ON council_verified (release);
      CREATE TABLE council_verified_served (trace_id text PRIMARY KEY, entry_id text NOT NULL, at double precision NOT NULL);
    `,
  },
  // ---- 10 and up: the adapter release record (deploy/postgres-release-store.ts); 2..9 belong to the turn store. ----
  ...RELEASE_MIGRATIONS,
  // ---- 12: the nightly runs' records (cron/postgres-run-records.ts). ----
  ...RUN_RECORD_MIGRATIONS,
]);

/** Advisory lock keys: one for migrating, one that orders the writes (both pg_advisory_xact_lock), one for the nightly run (session lock). */
export const MIGRATION_LOCK = 0x636f756e_01;
export const WRITE_LOCK = 0x636f756e_02;
export const RUN_LOCK = 0x636f756e_03;
/** Held (session lock) while LangGraph's Postgres checkpointer sets up its tables, so replicas starting together set up once. */
export const CHECKPOINT_SETUP_LOCK = 0x636f756e_04;

/**
 * Brings the database to the newest schema this code knows, in one transaction under an advisory lock (replicas
 * starting together migrate once). A database migrated by a newer Council is refused with MEMORY_SCHEMA_NEWER.
 * @returns the versions applied now (empty when the schema was current)
 */
export async function applyMigrations(client: ClientBase, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS council_schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
    const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM council_schema_migrations");
    const current = rows[0]?.version ?? 0;
    if (current > latest) {
      throw new CouncilError("MEMORY_SCHEMA_NEWER", `The database's memory schema is at version ${current}, newer than this Council knows (${latest}); upgrade this replica.`, { details: { current, latest } });
    }
    const applied: number[] = [];
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      await client.query(migration.sql);
      await client.query("INSERT INTO council_schema_migrations (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query("COMMIT");
    return applied;
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  }
}
