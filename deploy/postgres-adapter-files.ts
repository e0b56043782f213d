import type pg from "pg";
import type { AdapterBlobStore, AdapterFileBlob } from "./adapter-file-share.js";

/**
 * Version folders in Postgres (`council_adapter_files`, migration 11: one bytea row per file, keyed by version and
 * file name, with the file's sha256). Versions are content-hashed and immutable, so a stored version is never
 * overwritten: `put` inserts every file in one transaction and leaves rows already there untouched.
 */
export class PostgresAdapterBlobs implements AdapterBlobStore {
  private readonly pool: pg.Pool;

  constructor({ pool }: { pool: pg.Pool }) {
    this.pool = pool;
  }

  async has(version: string): Promise<boolean> {
    const { rows } = await this.pool.query("SELECT 1 FROM council_adapter_files WHERE version = $1 LIMIT 1", [version]);
    return rows.length > 0;
  }

  async put(version: string, files: readonly AdapterFileBlob[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      for (const file of files) {
        await client.query("INSERT INTO council_adapter_files (version, name, bytes, sha256) VALUES ($1, $2, $3, $4) ON CONFLICT (version, name) DO NOTHING", [version, file.name, file.bytes, file.sha256]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async get(version: string): Promise<AdapterFileBlob[] | null> {
    const { rows } = await this.pool.query<{ name: string; bytes: Buffer; sha256: string }>("SELECT name, bytes, sha256 FROM council_adapter_files WHERE version = $1 ORDER BY name", [version]);
    return rows.length === 0 ? null : rows.map((row) => ({ name: row.name, bytes: row.bytes, sha256: row.sha256 }));
  }
}
