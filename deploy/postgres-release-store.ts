import pg from "pg";
import { CouncilError, silentLogger, type Logger } from "../core/index.js";
import { SharedAdapterFiles, type AdapterFileShare } from "./adapter-file-share.js";
import { historyEntrySchema, type HistoryEntry } from "./adapter-registry.js";
import { canaryStateSchema, type CanaryState } from "./canary-state.js";
import { PostgresAdapterBlobs } from "./postgres-adapter-files.js";
import { BASE_MODEL, previousAfterRollback, type ReleaseStore, type StableRead, type StableSwitch } from "./release-store.js";
import { assertVersionName } from "./version-name.js";

/** The NOTIFY channel every write signals on; replicas LISTEN to re-read at once (polling stays the bound). */
export const RELEASE_CHANNEL = "council_adapter_release";

interface ReleaseRow {
  stable: string | null;
  previous: string | null;
  canary: unknown;
  revision: string;
}

export interface PostgresReleaseStoreOptions {
  /** postgres://… (COUNCIL_DATABASE_URL). The schema (migration 10) must be applied; the memory store does that at start. */
  url: string;
  /** Checks a version before it becomes stable (the registry's `verify`: files present, hash matches). */
  verify?: (version: string) => Promise<unknown>;
  now?: () => Date;
  logger?: Logger;
  /** @default 4 */
  poolSize?: number;
  /**
   * Share version folders through Postgres (migration 11): a version is uploaded when it becomes stable or canary,
   * and materialised into `paths.versions` on a replica that lacks it. Omitted: each data dir needs its own copy.
   */
  shareFiles?: { paths: { loras: string; versions: string }; maxBytes?: number };
}

/**
 * The adapter release record in Postgres (tables `council_adapter_release`, one row, and
 * `council_adapter_release_history`), shared by every replica. Each write runs in one transaction holding the
 * row lock, bumps `revision` and `pg_notify`s {@link RELEASE_CHANNEL} on commit.
 */
export class PostgresReleaseStore implements ReleaseStore {
  readonly name = "postgres";
  readonly shared = true;
  private readonly pool: pg.Pool;
  private readonly url: string;
  private readonly verify: (version: string) => Promise<unknown>;
  private readonly now: () => Date;
  private readonly logger: Logger;
  private readonly listeners = new Set<pg.Client>();
  private readonly files: AdapterFileShare | null;

  private constructor({ url, verify = async () => undefined, now = () => new Date(), logger = silentLogger, poolSize = 4, shareFiles }: PostgresReleaseStoreOptions) {
    this.url = url;
    this.pool = new pg.Pool({ connectionString: url, max: poolSize });
    this.pool.on("error", (error) => this.logger.error({ err: error }, "idle Postgres connection failed"));
    this.verify = verify;
    this.now = now;
    this.logger = logger;
    this.files = shareFiles ? new SharedAdapterFiles({ ...shareFiles, blobs: new PostgresAdapterBlobs({ pool: this.pool }), logger }) : null;
  }

  /** Connects and checks the schema is there (CONFIG_INVALID with the fix when it is not). */
  static async create(options: PostgresReleaseStoreOptions): Promise<PostgresReleaseStore> {
    const store = new PostgresReleaseStore(options);
    try {
      await store.row();
    } catch (cause) {
      await store.pool.end();
      if (cause instanceof CouncilError) throw cause;
      throw new CouncilError("BACKEND_UNAVAILABLE", `Cannot read the adapter release from Postgres: ${(cause as Error).message}`, { cause });
    }
    return store;
  }

  async stable(): Promise<StableRead> {
    return { version: (await this.row()).stable, problem: null };
  }

  async previous(): Promise<string | null> {
    return (await this.row()).previous;
  }

  async canary(): Promise<CanaryState | null> {
    const { canary } = await this.row();
    if (canary === null) return null;
    const parsed = canaryStateSchema.safeParse(canary);
    if (!parsed.success) throw new CouncilError("ADAPTER_INVALID", `The canary record in Postgres is corrupt: ${parsed.error.issues[0]?.message}`);
    return parsed.data;
  }

  async setCanary(state: CanaryState): Promise<void> {
    const canary = canaryStateSchema.parse(state);
    if (canary.status === "running") await this.files?.upload(canary.version);
    await this.write(async (client) => {
      await client.query("UPDATE council_adapter_release SET canary = $1 WHERE id = 1", [JSON.stringify(canary)]);
    });
  }

  async activate(version: string, { reason, action = "activate" }: { reason: string; action?: "activate" | "promote" }): Promise<StableSwitch> {
    await this.prepare(version);
    return this.write(async (client, row) => {
      if (row.stable === version) return { from: version, to: version };
      await client.query("UPDATE council_adapter_release SET stable = $1, previous = COALESCE($2, previous) WHERE id = 1", [version, row.stable]);
      await this.appendHistory(client, { at: this.now().toISOString(), action, from: row.stable, to: version, reason });
      this.logger.info({ from: row.stable, to: version, reason }, "adapter activated (postgres release)");
      return { from: row.stable, to: version };
    });
  }

  async rollback({ to, reason }: { to?: string; reason: string }): Promise<StableSwitch> {
    if (to === BASE_MODEL) {
      return this.write(async (client, row) => {
        if (row.stable === null) throw new CouncilError("ADAPTER_NOT_FOUND", "No adapter is stable: the base model already serves.");
        await client.query("UPDATE council_adapter_release SET stable = NULL, previous = NULL WHERE id = 1");
        await this.appendHistory(client, { at: this.now().toISOString(), action: "rollback", from: row.stable, to: BASE_MODEL, reason });
        this.logger.warn({ from: row.stable, to: null, reason }, "adapter rolled back to the base model (postgres release)");
        return { from: row.stable, to: null };
      });
    }
    if (to !== undefined) await this.prepare(to);
    return this.write(async (client, row) => {
      const target = to ?? row.previous;
      if (target === null) throw new CouncilError("ADAPTER_NOT_FOUND", "There is no previous adapter version to roll back to; name one with --to, or --to base for the base model.");
      if (to === undefined) await this.prepare(target);
      const previous = previousAfterRollback({ history: await this.historyWith(client), target, removed: row.stable });
      await client.query("UPDATE council_adapter_release SET stable = $1, previous = $2 WHERE id = 1", [target, previous]);
      await this.appendHistory(client, { at: this.now().toISOString(), action: "rollback", from: row.stable, to: target, reason });
      this.logger.warn({ from: row.stable, to: target, reason }, "adapter rolled back (postgres release)");
      return { from: row.stable, to: target };
    });
  }

  history(): Promise<HistoryEntry[]> {
    return this.historyWith(this.pool);
  }

  /** Fetches `versions/<version>/` from Postgres when this replica lacks it (shareFiles); no-op otherwise. */
  async materialise(version: string): Promise<void> {
    await this.files?.materialise(version);
  }

  /** Before a version becomes stable: here (materialised when shared), verified, and shared for the other replicas. */
  private async prepare(version: string): Promise<void> {
    assertVersionName(version);
    await this.files?.materialise(version);
    await this.verify(version);
    await this.files?.upload(version);
  }

  /** LISTEN on a dedicated connection; `listener` runs on every committed write by any replica. */
  async subscribe(listener: () => void): Promise<() => Promise<void>> {
    const client = new pg.Client({ connectionString: this.url });
    client.on("error", (error) => this.logger.warn({ err: error }, "release LISTEN connection failed; polling only"));
    client.on("notification", (message) => {
      if (message.channel === RELEASE_CHANNEL) listener();
    });
    await client.connect();
    await client.query(`LISTEN ${RELEASE_CHANNEL}`);
    this.listeners.add(client);
    return async () => {
      if (this.listeners.delete(client)) await client.end().catch(() => undefined);
    };
  }

  async dispose(): Promise<void> {
    await Promise.all([...this.listeners].map((client) => client.end().catch(() => undefined)));
    this.listeners.clear();
    await this.pool.end();
  }

  private async row(): Promise<ReleaseRow> {
    let rows: ReleaseRow[];
    try {
      ({ rows } = await this.pool.query<ReleaseRow>("SELECT stable, previous, canary, revision FROM council_adapter_release WHERE id = 1"));
    } catch (cause) {
      if ((cause as { code?: string }).code === "42P01") throw new CouncilError("CONFIG_INVALID", "Postgres has no council_adapter_release table: start a replica with COUNCIL_STORE=postgres once (it applies the migrations).", { cause });
      throw cause;
    }
    const row = rows[0];
    if (row === undefined) throw new CouncilError("INTERNAL", "council_adapter_release has no row 1 (migration 10 inserts it).");
    return row;
  }

  /** One transaction with the release row locked; bumps the revision and notifies on commit. */
  private async write<T>(change: (client: pg.PoolClient, row: ReleaseRow) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const { rows } = await client.query<ReleaseRow>("SELECT stable, previous, canary, revision FROM council_adapter_release WHERE id = 1 FOR UPDATE");
      const row = rows[0];
      if (row === undefined) throw new CouncilError("INTERNAL", "council_adapter_release has no row 1 (migration 10 inserts it).");
      const result = await change(client, row);
      const { rows: bumped } = await client.query<{ revision: string }>("UPDATE council_adapter_release SET revision = revision + 1, updated_at = now() WHERE id = 1 RETURNING revision");
      await client.query("SELECT pg_notify($1, $2)", [RELEASE_CHANNEL, bumped[0]?.revision ?? ""]);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private async appendHistory(client: pg.PoolClient, entry: HistoryEntry): Promise<void> {
    await client.query("INSERT INTO council_adapter_release_history (at, action, from_version, to_version, reason) VALUES ($1, $2, $3, $4, $5)", [entry.at, entry.action, entry.from, entry.to, entry.reason]);
  }

  private async historyWith(queryable: Pick<pg.Pool, "query"> | pg.PoolClient): Promise<HistoryEntry[]> {
    const { rows } = await queryable.query<{ at: string; action: string; from_version: string | null; to_version: string; reason: string }>("SELECT at, action, from_version, to_version, reason FROM council_adapter_release_history ORDER BY seq");
    return rows.map((row) => historyEntrySchema.parse({ at: row.at, action: row.action, from: row.from_version, to: row.to_version, reason: row.reason }));
  }
}
