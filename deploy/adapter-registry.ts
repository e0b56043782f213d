import { randomBytes } from "node:crypto";
import { appendFile, chmod, copyFile, lstat, mkdir, open, readFile, readdir, readlink, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { z } from "zod";
import { CouncilError, dataPaths, safeParseJson, silentLogger, type CouncilConfig, type Logger } from "../core/index.js";
import { checkLoraGgufHeader, type AdapterFileValidator } from "./adapter-file.js";
import { AdapterIntegrity, sha256File } from "./adapter-integrity.js";
import { fsyncDir, switchSymlink } from "./atomic-files.js";
import { assertVersionName } from "./version-name.js";

export const ADAPTER_FILE = "adapter.gguf";
export const TRAINING_FILE = "training.json";
export const EVAL_FILE = "eval.json";
const VERSION_LENGTH = 16;

/** A probe: a fixed prompt and the output the adapter gave at eval time (greedy decoding). */
export const probeSchema = z.object({ prompt: z.string().min(1), output: z.string() });
export type Probe = z.infer<typeof probeSchema>;

/** eval.json: the gate's report. `probes` lets the server prove it is serving this adapter. */
export const evalRecordSchema = z.object({ probes: z.array(probeSchema).default([]) }).passthrough();
export type EvalRecord = z.infer<typeof evalRecordSchema>;
const trainingRecordSchema = z.record(z.unknown());

/** A rollback's `to` in history when it took the adapter out (the base model serves); version names are 16 hex digits. */
export const BASE_MODEL_NAME = "base";

export const historyEntrySchema = z.object({
  at: z.string(),
  action: z.enum(["activate", "rollback", "promote"]),
  from: z.string().nullable(),
  to: z.string(),
  reason: z.string(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;

export interface AdapterVersion {
  version: string;
  dir: string;
  adapterPath: string;
  createdAt: Date;
}

export interface RegistryPaths {
  loras: string;
  versions: string;
  current: string;
  previous: string;
}

export interface AdapterRegistryOptions {
  /** Either the config (paths from `dataPaths`) or explicit paths. */
  config?: Pick<CouncilConfig, "dataDir">;
  paths?: RegistryPaths;
  /** @default checkLoraGgufHeader (magic, version, general.type=adapter, adapter.type=lora) */
  validateAdapter?: AdapterFileValidator;
  logger?: Logger;
  now?: () => Date;
}

/**
 * The adapter registry under `loras/`: immutable content-hashed versions in `versions/<sha256-prefix>/`
 * and two symlinks, `current` and `previous`, switched atomically. Every switch is appended to `history.jsonl`.
 */
export class AdapterRegistry {
  readonly paths: RegistryPaths;
  private readonly validateAdapter: AdapterFileValidator;
  private readonly logger: Logger;
  private readonly now: () => Date;
  private readonly integrity: AdapterIntegrity;

  private constructor(options: Required<Pick<AdapterRegistryOptions, "validateAdapter" | "logger" | "now">> & { paths: RegistryPaths }) {
    this.paths = options.paths;
    this.integrity = new AdapterIntegrity({ versions: options.paths.versions });
    this.validateAdapter = options.validateAdapter;
    this.logger = options.logger;
    this.now = options.now;
  }

  static async create({ config, paths, validateAdapter = checkLoraGgufHeader, logger = silentLogger, now = () => new Date() }: AdapterRegistryOptions): Promise<AdapterRegistry> {
    const resolved = paths ?? (config ? dataPaths(config) : undefined);
    if (!resolved) throw new CouncilError("CONFIG_INVALID", "AdapterRegistry needs config or paths.");
    await mkdir(resolved.versions, { recursive: true });
    return new AdapterRegistry({ paths: { loras: resolved.loras, versions: resolved.versions, current: resolved.current, previous: resolved.previous }, validateAdapter, logger, now });
  }

  get historyPath(): string {
    return join(this.paths.loras, "history.jsonl");
  }

  /**
   * Publishes an adapter as an immutable version named by its content hash. Validates the adapter first.
   * Idempotent: publishing the same bytes again returns the existing version untouched (`created: false`).
   */
  async publish({ adapterPath, training, evaluation }: { adapterPath: string; training: Record<string, unknown>; evaluation: EvalRecord }): Promise<{ version: string; dir: string; created: boolean }> {
    await this.validateAdapter(adapterPath);
    const evalParsed = evalRecordSchema.safeParse(evaluation);
    if (!evalParsed.success) throw new CouncilError("ADAPTER_INVALID", `eval record is invalid: ${evalParsed.error.issues[0]?.message}`);
    const version = (await sha256File(adapterPath)).slice(0, VERSION_LENGTH);
    const dir = join(this.paths.versions, version);
    if (await exists(dir)) {
      this.logger.info({ version }, "adapter version already published");
      return { version, dir, created: false };
    }
    const temp = join(this.paths.loras, `.publish-${process.pid}-${randomBytes(6).toString("hex")}`);
    await mkdir(temp);
    try {
      await copyFile(adapterPath, join(temp, ADAPTER_FILE));
      if ((await sha256File(join(temp, ADAPTER_FILE))).slice(0, VERSION_LENGTH) !== version) {
        throw new CouncilError("ADAPTER_INVALID", `Adapter ${adapterPath} changed while it was being published.`);
      }
      await writeFile(join(temp, TRAINING_FILE), JSON.stringify(training, null, 2) + "\n");
      await writeFile(join(temp, EVAL_FILE), JSON.stringify(evalParsed.data, null, 2) + "\n");
      for (const name of [ADAPTER_FILE, TRAINING_FILE, EVAL_FILE]) {
        const handle = await open(join(temp, name), "r+");
        await handle.sync();
        await handle.close();
        await chmod(join(temp, name), 0o444);
      }
      await fsyncDir(temp);
      try {
        await rename(temp, dir);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOTEMPTY" || code === "EEXIST") return { version, dir, created: false };
        throw error;
      }
      await fsyncDir(this.paths.versions);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    this.logger.info({ version }, "adapter version published");
    return { version, dir, created: true };
  }

  /** Publishes a trainer's output folder (`adapter.gguf` + `training.json`) with the gate's eval record. */
  async publishDir({ adapterDir, evaluation }: { adapterDir: string; evaluation: EvalRecord }): Promise<{ version: string; dir: string; created: boolean }> {
    const training = await readJson(join(adapterDir, TRAINING_FILE), trainingRecordSchema);
    return this.publish({ adapterPath: join(adapterDir, ADAPTER_FILE), training, evaluation });
  }

  /** The version's files, after checking the name and that it exists and is valid. */
  async get(version: string): Promise<AdapterVersion> {
    assertVersionName(version);
    const dir = join(this.paths.versions, version);
    let info;
    try {
      info = await lstat(dir);
    } catch {
      throw new CouncilError("ADAPTER_NOT_FOUND", `Adapter version ${version} is not in ${this.paths.versions}; see \`council status\`.`, { details: { version } });
    }
    if (!info.isDirectory()) throw new CouncilError("PATH_UNSAFE", `${dir} is not a directory.`, { details: { version } });
    return { version, dir, adapterPath: join(dir, ADAPTER_FILE), createdAt: info.mtime };
  }

  /**
   * `get`, plus what must hold before a version is loaded or switched to: `adapter.gguf` really lives in
   * `versions/<version>/` (no link out of it) and its sha256 starts with the version name. The returned
   * `adapterPath` is the verified real path. Throws ADAPTER_INVALID. Hashes are cached per inode and mtime.
   */
  async verify(version: string): Promise<AdapterVersion> {
    const record = await this.get(version);
    return { ...record, adapterPath: await this.integrity.verify({ version, file: ADAPTER_FILE }) };
  }

  async list(): Promise<AdapterVersion[]> {
    const names = await readdir(this.paths.versions);
    const versions: AdapterVersion[] = [];
    for (const name of names) {
      try {
        versions.push(await this.get(name));
      } catch {
        this.logger.warn({ name }, "ignoring a foreign entry in loras/versions");
      }
    }
    return versions.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async readEval(version: string): Promise<EvalRecord> {
    const { dir } = await this.get(version);
    return readJson(join(dir, EVAL_FILE), evalRecordSchema);
  }

  async readTraining(version: string): Promise<Record<string, unknown>> {
    const { dir } = await this.get(version);
    return readJson(join(dir, TRAINING_FILE), trainingRecordSchema);
  }

  /** The version `current` points to, or null when there is none. Throws PATH_UNSAFE for a link outside loras/versions. */
  current(): Promise<string | null> {
    return this.readLink(this.paths.current);
  }

  previous(): Promise<string | null> {
    return this.readLink(this.paths.previous);
  }

  /**
   * `current()` for callers that must go on when the link is broken (dangling, outside loras/versions, not a
   * link): `problem` holds the error and `version` is null. The server then serves the base model and raises
   * council_adapter_current_invalid; `activate` and `rollback` overwrite the link without reading its target.
   */
  async checkCurrent(): Promise<{ version: string | null; problem: CouncilError | null }> {
    try {
      return { version: await this.current(), problem: null };
    } catch (error) {
      if (error instanceof CouncilError && (error.code === "PATH_UNSAFE" || error.code === "ADAPTER_NOT_FOUND")) return { version: null, problem: error };
      throw error;
    }
  }

  /** The current version, or null (with a warning) when the link is broken and is about to be overwritten. */
  private async currentForSwitch(): Promise<string | null> {
    const { version, problem } = await this.checkCurrent();
    if (problem) this.logger.warn({ err: problem }, "loras/current is broken; replacing it");
    return version;
  }

  /** Makes `version` current (validated first); the old current becomes `previous`. */
  async activate(version: string, { reason, action = "activate" }: { reason: string; action?: "activate" | "promote" }): Promise<{ from: string | null; to: string }> {
    const target = await this.verify(version);
    await this.validateAdapter(target.adapterPath);
    const from = await this.currentForSwitch();
    if (from === version) return { from, to: version };
    if (from !== null) await switchSymlink({ linkPath: this.paths.previous, target: linkTarget(from) });
    await switchSymlink({ linkPath: this.paths.current, target: linkTarget(version) });
    await this.appendHistory({ at: this.now().toISOString(), action, from, to: version, reason });
    this.logger.info({ from, to: version, reason }, "adapter activated");
    return { from, to: version };
  }

  /**
   * Points `current` back at `previous` (or at `to`). Afterwards `previous` is what the restored version had
   * replaced, per history (removed when unknown), so a second rollback never re-deploys the version just removed.
   * Throws ADAPTER_NOT_FOUND when there is no previous version.
   */
  async rollback({ to, reason }: { to?: string; reason: string }): Promise<{ from: string | null; to: string | null }> {
    const from = await this.currentForSwitch();
    if (to === BASE_MODEL_NAME) {
      if (from === null) throw new CouncilError("ADAPTER_NOT_FOUND", "No adapter is stable: the base model already serves.");
      await rm(this.paths.current, { force: true });
      await rm(this.paths.previous, { force: true });
      await this.appendHistory({ at: this.now().toISOString(), action: "rollback", from, to: BASE_MODEL_NAME, reason });
      this.logger.warn({ from, to: null, reason }, "adapter rolled back to the base model");
      return { from, to: null };
    }
    const target = to ?? (await this.previous());
    if (target === null) throw new CouncilError("ADAPTER_NOT_FOUND", "There is no previous adapter version to roll back to; name one with --to, or --to base for the base model.");
    const version = await this.verify(target);
    await this.validateAdapter(version.adapterPath);
    if (from !== target) await switchSymlink({ linkPath: this.paths.current, target: linkTarget(target) });
    const history = await this.history();
    const replaced = [...history].reverse().find((entry) => entry.to === target && entry.action !== "rollback" && entry.from !== null && entry.from !== from && entry.from !== target)?.from;
    if (replaced && (await exists(join(this.paths.versions, replaced)))) {
      await switchSymlink({ linkPath: this.paths.previous, target: linkTarget(replaced) });
    } else {
      await rm(this.paths.previous, { force: true });
    }
    await this.appendHistory({ at: this.now().toISOString(), action: "rollback", from, to: target, reason });
    this.logger.warn({ from, to: target, reason }, "adapter rolled back");
    return { from, to: target };
  }

  async history(): Promise<HistoryEntry[]> {
    let text: string;
    try {
      text = await readFile(this.historyPath, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const entries: HistoryEntry[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const parsed = safeParseJson(line, historyEntrySchema);
      if (parsed.success) entries.push(parsed.value);
      else this.logger.warn({ line }, "skipping a malformed history line");
    }
    return entries;
  }

  private async appendHistory(entry: HistoryEntry): Promise<void> {
    await appendFile(this.historyPath, JSON.stringify(entry) + "\n");
  }

  private async readLink(linkPath: string): Promise<string | null> {
    let target: string;
    try {
      target = await readlink(linkPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return null;
      if (code === "EINVAL") throw new CouncilError("PATH_UNSAFE", `${linkPath} is not a symlink.`, { details: { path: linkPath } });
      throw error;
    }
    const absolute = resolve(this.paths.loras, target);
    const rel = relative(this.paths.versions, absolute);
    if (isAbsolute(target) || rel.startsWith("..") || rel === "" || rel.includes(sep)) {
      throw new CouncilError("PATH_UNSAFE", `${linkPath} points to ${target}, outside ${this.paths.versions}.`, { details: { path: linkPath, target } });
    }
    // Resolve through any further links: the real directory must also be inside loras/versions.
    let real: string;
    try {
      real = await realpath(absolute);
    } catch {
      throw new CouncilError("ADAPTER_NOT_FOUND", `${linkPath} points to ${target}, which does not exist.`, { details: { path: linkPath, target } });
    }
    const realVersions = await realpath(this.paths.versions);
    if (relative(realVersions, real) !== rel) {
      throw new CouncilError("PATH_UNSAFE", `${linkPath} resolves to ${real}, outside ${this.paths.versions}.`, { details: { path: linkPath, target } });
    }
    return assertVersionName(rel);
  }
}

const linkTarget = (version: string) => join("versions", version);

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson<T>(path: string, schema: z.ZodType<T, z.ZodTypeDef, unknown>): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (cause) {
    throw new CouncilError("ADAPTER_INVALID", `Cannot read ${path}: ${(cause as Error).message}`, { cause, details: { path } });
  }
  const parsed = safeParseJson(text, schema as z.ZodType<T>, "ADAPTER_INVALID");
  if (!parsed.success) throw new CouncilError("ADAPTER_INVALID", `${path}: ${parsed.error.message}`, { cause: parsed.error });
  return parsed.value;
}

export { sha256File };
