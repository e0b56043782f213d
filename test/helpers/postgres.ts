import { execFile } from "node:child_process";
import { chownSync, existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./net.js";

const run = promisify(execFile);

/** Debian's Postgres 15 (apt install postgresql-15). */
export const POSTGRES_BIN = "/usr/lib/postgresql/15/bin";
export const havePostgres = existsSync(join(POSTGRES_BIN, "initdb")) && existsSync(join(POSTGRES_BIN, "pg_ctl"));

export interface PostgresServer {
  /** URL of the `postgres` database as the superuser `council` (trust auth on loopback). */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL. */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (immediate) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * Starts a throwaway Postgres 15: initdb in a temp folder, a free loopback port, fsync off.
 * As root, the server runs as the `postgres` user (`runuser`), which owns the folder.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), "council-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  let as: string[] = [];
  if (asRoot) {
    const uid = Number((await run("id", ["-u", "postgres"])).stdout.trim());
    const gid = Number((await run("id", ["-g", "postgres"])).stdout.trim());
    chownSync(dir, uid, gid);
    as = ["runuser", "-u", "postgres", "--"];
  }
  const exec = (binary: string, args: string[]) => {
    const command = [...as, join(POSTGRES_BIN, binary), ...args];
    return run(command[0]!, command.slice(1), { timeout: 120_000 });
  };
  await exec("initdb", ["-D", data, "-A", "trust", "-U", "council", "-E", "UTF8", "--locale=C", "--no-sync"]);
  const port = await freePort();
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`;
  await exec("pg_ctl", ["-D", data, "-o", options, "-l", join(dir, "server.log"), "-w", "-t", "60", "start"]);
  const url = `postgres://council@127.0.0.1:${port}/postgres`;
  return {
    url,
    port,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return `postgres://council@127.0.0.1:${port}/${name}`;
    },
    async stop() {
      await exec("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Runs one statement on its own connection and returns the rows. */
export async function sql<Row extends object>(url: string, text: string, values: unknown[] = []): Promise<Row[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}
