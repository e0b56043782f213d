import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { CouncilError, safeParseJson, type CouncilConfig } from "../../core/index.js";

/**
 * How the CLI finds "the Council server of this install" and talks to it safely:
 * `council serve` writes `<dataDir>/server.json` (pid, host, port, a random instance id) and serves the same
 * instance id on the unauthenticated `GET /health`. The CLI reads server.json from ITS data dir and sends the
 * admin token only to a server that reports that instance id; anything else never sees the token.
 */
export const SERVER_FILE = "server.json";
/** Per-install admin secret, created by `council serve` when COUNCIL_ADMIN_TOKEN is unset. */
export const ADMIN_TOKEN_FILE = "admin-token";

export const serverInfoSchema = z.object({
  pid: z.number().int().positive(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  instanceId: z.string().min(16),
  startedAt: z.number(),
});
export type ServerInfo = z.infer<typeof serverInfoSchema>;

const healthSchema = z.object({ status: z.string(), instance: z.string().optional() });

export const serverInfoPath = (dataDir: string): string => join(dataDir, SERVER_FILE);
export const adminTokenPath = (dataDir: string): string => join(dataDir, ADMIN_TOKEN_FILE);

export function newInstanceId(): string {
  return randomBytes(16).toString("hex");
}

/** Reads `<dataDir>/admin-token`, or undefined when there is none. Refuses a file others can read. */
export function readAdminTokenFile(dataDir: string): string | undefined {
  const path = adminTokenPath(dataDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new CouncilError("CONFIG_INVALID", `Cannot read ${path}: ${(cause as Error).message}`, { cause });
  }
  if (process.platform !== "win32" && (statSync(path).mode & 0o077) !== 0) {
    throw new CouncilError("CONFIG_INVALID", `${path} is readable by other users; run \`chmod 600 ${path}\` (or delete it: \`council serve\` makes a new one).`);
  }
  const token = text.trim();
  if (token.length < 8) throw new CouncilError("CONFIG_INVALID", `${path} holds no valid admin token (8+ characters); delete it and restart \`council serve\`.`);
  return token;
}

/** The admin token of this data dir: the existing file, else a new random one written with mode 0600. */
export function ensureAdminTokenFile(dataDir: string): string {
  const existing = readAdminTokenFile(dataDir);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(32).toString("base64url");
  try {
    writeFileSync(adminTokenPath(dataDir), `${token}\n`, { mode: 0o600, flag: "wx" });
  } catch (cause) {
    // Another server of this data dir created it first: use theirs.
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") return readAdminTokenFile(dataDir)!;
    throw cause;
  }
  return token;
}

/** Writes server.json atomically (mode 0600). */
export function writeServerInfo(dataDir: string, info: ServerInfo): void {
  mkdirSync(dataDir, { recursive: true });
  const path = serverInfoPath(dataDir);
  const temp = `${path}.${info.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temp, 0o600);
  renameSync(temp, path);
}

/** Removes server.json if it still describes this instance (a newer server may have replaced it). */
export function removeServerInfo(dataDir: string, instanceId: string): void {
  const info = readServerInfo(dataDir);
  if (info?.instanceId === instanceId) rmSync(serverInfoPath(dataDir), { force: true });
}

export function readServerInfo(dataDir: string): ServerInfo | undefined {
  let text: string;
  try {
    text = readFileSync(serverInfoPath(dataDir), "utf8");
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw cause;
  }
  const parsed = safeParseJson(text, serverInfoSchema);
  if (!parsed.success) throw new CouncilError("CONFIG_INVALID", `${serverInfoPath(dataDir)} is not a valid server file (${parsed.error.message}); delete it if no Council server is running.`);
  return parsed.value;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/i;

/** Where to reach a server bound to `host`: wildcard binds are reached on loopback. */
function urlFor(host: string, port: number): { url: string; loopback: boolean } {
  const reach = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return { url: `http://${reach.includes(":") ? `[${reach}]` : reach}:${port}`, loopback: LOOPBACK.test(reach) };
}

export type RunTarget =
  /** A verified Council server of this data dir, and the token to use (never sent anywhere else). */
  | { kind: "server"; url: string; token: string; info: ServerInfo }
  /** No server of this data dir is running: do the work in this process. */
  | { kind: "in-process"; note?: string };

export interface ResolveRunTargetOptions {
  config: CouncilConfig;
  /** @default globalThis.fetch */
  fetch?: typeof globalThis.fetch;
  /** @default process.kill(pid, 0) */
  isAlive?: (pid: number) => boolean;
}

/**
 * Finds the Council server of `config.dataDir` through its server.json and proves its identity (the instance id
 * it serves on GET /health) before anything secret is sent. A server.json whose process is gone, or whose port
 * refuses connections, is stale: the work runs in this process. Something else answering on that port is an
 * error (`SERVER_UNVERIFIED`), and it never receives the token.
 */
export async function resolveRunTarget({ config, fetch = globalThis.fetch, isAlive = processAlive }: ResolveRunTargetOptions): Promise<RunTarget> {
  const info = readServerInfo(config.dataDir);
  if (info === undefined) return { kind: "in-process" };
  const file = serverInfoPath(config.dataDir);
  if (!isAlive(info.pid)) return { kind: "in-process", note: `ignoring stale ${file} (process ${info.pid} is gone)` };
  const { url, loopback } = urlFor(info.host, info.port);
  let response: Response;
  try {
    // No credentials, no redirects: only the identity question goes to an unverified address.
    response = await fetch(`${url}/health`, { redirect: "manual", signal: AbortSignal.timeout(3000) });
  } catch {
    // Connection refused or timed out: the process is not serving there (a stale file whose pid was reused).
    return { kind: "in-process", note: `ignoring stale ${file} (nothing answers at ${url})` };
  }
  const health = safeParseJson(await response.text(), healthSchema);
  const instance = health.success ? health.value.instance : undefined;
  if (instance !== info.instanceId) {
    throw new CouncilError(
      "SERVER_UNVERIFIED",
      `${file} says Council (pid ${info.pid}) serves ${url}, but what answers there ${instance === undefined ? `is not a Council server of this data dir (HTTP ${response.status})` : "is another Council instance"}; the admin token was not sent. If no Council server of ${config.dataDir} is running, delete ${file}.`,
    );
  }
  const token = config.server.adminToken ?? (loopback ? readAdminTokenFile(config.dataDir) : undefined);
  if (token === undefined) {
    throw new CouncilError(
      "UNAUTHORIZED",
      loopback
        ? `The Council server at ${url} runs with this data dir but ${adminTokenPath(config.dataDir)} is missing; set COUNCIL_ADMIN_TOKEN to the server's admin token.`
        : `The Council server of this data dir listens on ${url} (not loopback), so the CLI does not use ${ADMIN_TOKEN_FILE}; set COUNCIL_ADMIN_TOKEN to the server's admin token.`,
    );
  }
  return { kind: "server", url, token, info };
}
